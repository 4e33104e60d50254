"""The domain-free floor: settings, database and unit of work, time, i18n, HTTP rules,
templates, caches and the process container. Imports nothing of the project above it."""
