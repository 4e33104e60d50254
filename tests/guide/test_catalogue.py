"""Adding to the guide: an example's slug is the name in its URL, so it follows the slug rule."""

from __future__ import annotations

import pytest

from foundation.services import Services
from guide.catalogue import add_example
from guide.errors import InvalidExample


@pytest.mark.parametrize("slug", ["Ystad", "ystad_karna", "x" * 81, "", "ystad kärna"])
async def test_an_example_whose_slug_no_url_can_hold_is_refused(
    services: Services, slug: str
) -> None:
    """Such a slug made every page that links the example answer 500 (no route can build
    its URL) and the example's own page unreachable."""
    with pytest.raises(InvalidExample) as refused:
        async with services.transaction() as session:
            await add_example(
                session, slug=slug, title="Regional kärna", organisation="Ystad", summary="…"
            )
    assert set(refused.value.fields) == {"slug"}
