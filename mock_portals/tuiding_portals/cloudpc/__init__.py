"""移动云电脑软件版 mock portal: unsubscribe with reason, identity verification, async processing and refunds."""

from flask import Blueprint

bp = Blueprint("cloudpc", __name__, template_folder="templates", static_folder="static", static_url_path="/static/cloudpc")

from . import views, views_after, views_unsubscribe  # noqa: E402,F401  (register routes on bp)
