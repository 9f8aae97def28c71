"""The deployment's starting state: one newsletter, a member who reads it from her account (alice) and a
subscriber who signed up by e-mail (bob); carol has an account and no subscription yet."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsletter_site.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sites.models import Site  # noqa: E402
from django.core.management import call_command  # noqa: E402
from newsletter.models import Newsletter, Subscription  # noqa: E402

ACCOUNTS = {"alice": "alice-pass-1", "carol": "carol-pass-1"}


def seed(site_domain: str) -> None:
    settings.STATE.mkdir(parents=True, exist_ok=True)
    (settings.STATE / "mail").mkdir(exist_ok=True)
    call_command("migrate", verbosity=0)
    Site.objects.update_or_create(id=1, defaults={"domain": site_domain, "name": "Weekly News"})
    users = {name: User.objects.create_user(name, f"{name}@example.com", password) for name, password in ACCOUNTS.items()}
    weekly = Newsletter.objects.create(
        title="Weekly News", slug="weekly", email="news@example.com", sender="The Weekly News team"
    )
    weekly.site.add(1)
    Subscription.objects.create(user=users["alice"], newsletter=weekly, subscribed=True)
    Subscription.objects.create(email_field="bob@example.com", name_field="Bob", newsletter=weekly, subscribed=True)


if __name__ == "__main__":
    import sys

    seed(sys.argv[1])
