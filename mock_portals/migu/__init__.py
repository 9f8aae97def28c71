"""咪咕会员 mock portal (website journey)."""
from flask import Blueprint

bp = Blueprint("migu", __name__, template_folder="templates", static_folder="static", static_url_path="/static/migu")

from . import views  # noqa: E402,F401  (registers routes on bp)
from . import views_account  # noqa: E402,F401
from . import views_app  # noqa: E402,F401
from . import views_service  # noqa: E402,F401
