import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# the web app does not start with keys that do not fit the stored data
from roster.fieldkeys import field_keys_refuse_start  # noqa: E402

field_keys_refuse_start()

from config.dbtimeouts import web_timeouts_install  # noqa: E402  (after Django is set up)

web_timeouts_install()
