"""The Flask extensions, created once here and bound to the app in create_app.

Views, sign-in and error pages import them from this module, so that none of them reaches back up
into the package's __init__.
"""

from flask_babel import Babel
from flask_compress import Compress
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_session import Session

from webapp.web.csrf_mask import MaskedCSRFProtect

htmx = HTMX()
# Marks strings for translation (`_` in templates and code); the language choice is set in create_app.
babel = Babel()
csrf = MaskedCSRFProtect()  # tokens masked per response (csrf_mask)
server_session = Session()
compress = Compress()
# Limits are counted per instance in memory, or across instances in Redis (see create_app).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
