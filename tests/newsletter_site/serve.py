"""Serve the deployment with a production WSGI server on 127.0.0.1 (python -m newsletter_site.serve PORT)."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsletter_site.settings")

from django.core.wsgi import get_wsgi_application
from waitress import serve

if __name__ == "__main__":
    serve(get_wsgi_application(), host="127.0.0.1", port=int(sys.argv[1]), threads=4, _quiet=True)
