"""Django settings for the test deployment of django-newsletter (see __init__.py). The environment says where
its state lives, which language it speaks and how it sends mail."""

import os
from pathlib import Path

STATE = Path(os.environ["NEWSLETTER_STATE"])
SECRET_KEY = "a-test-deployment-on-127.0.0.1-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "sorl.thumbnail",
    "newsletter",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "newsletter_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": STATE / "db.sqlite3"}}
SITE_ID = 1
USE_I18N = True
LANGUAGE_CODE = os.environ.get("NEWSLETTER_LANGUAGE", "en")
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
USE_TZ = True
TIME_ZONE = "Europe/London"
STATIC_URL = "/static/"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/newsletter/"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
NEWSLETTER_THUMBNAIL = "sorl-thumbnail"
NEWSLETTER_USE_HTTPS = False
DEFAULT_FROM_EMAIL = "news@example.com"
# smtp: to the SMTP sink a tuiding run starts (NEWSLETTER_SMTP_PORT); file: Django's file back-end, a folder
# a scenario reads with `mailbox: {folder: …}`.
if os.environ.get("NEWSLETTER_SMTP_PORT"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST, EMAIL_PORT = "127.0.0.1", int(os.environ["NEWSLETTER_SMTP_PORT"])
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = STATE / "mail"
