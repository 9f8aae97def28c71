"""django-newsletter (installed from PyPI) deployed as a small site for the tests: the real third-party web
application tuiding is tried on (tests/test_thirdparty.py). Only its deployment lives here — settings, URLs,
seed data — as any site that uses the app would have them; the application's pages, forms, e-mails and rules
are django-newsletter's own."""
