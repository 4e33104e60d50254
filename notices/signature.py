"""Who a mail is from: the agency that runs the service, how to reach it, and the links to
"Om tjänsten", the privacy notice and the accessibility statement, for every mail's footer
(templates/mail/layout.html and layout.txt).

A mail is where a person most often meets the service, so it names the controller and the
way to its notice as the page footer does (GDPR art. 13.1 a, 14.1 a).
"""

from __future__ import annotations

from foundation.settings import Settings
from foundation.site_paths import url_in


def signature(settings: Settings, language: str) -> dict[str, str]:
    """The footer's values for a mail in `language` ("sv" or "en"): `agency`, `partner`
    ("" for none), `agency_email`, and absolute `about_url`, `privacy_url` and
    `accessibility_url` under BASE_URL that open in that language."""
    base = settings.base_url
    return {
        "agency": settings.agency_name,
        "partner": settings.partner_network,
        "agency_email": settings.agency_email,
        "about_url": url_in(language, base, "about"),
        "privacy_url": url_in(language, base, "privacy"),
        "accessibility_url": url_in(language, base, "accessibility"),
    }
