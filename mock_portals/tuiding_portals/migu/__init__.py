"""咪咕会员 mock portal: website, mobile app (/app/), hotline and online service."""

from flask import Blueprint

bp = Blueprint("migu", __name__, template_folder="templates", static_folder="static", static_url_path="/static/migu")

# Importing the view modules registers their routes on bp (they import bp from here).
from . import views, views_account, views_app, views_service  # noqa: E402,F401
