"""The security review's tests reuse the proxy and admin test fixtures (real proxy processes, real admin app)."""
from tests.admin_api.conftest import *  # noqa: F401,F403
from tests.admin_api.conftest import _cheap_password_hashing  # noqa: F401
from tests.proxy.conftest import *  # noqa: F401,F403
