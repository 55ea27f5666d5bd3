#!/usr/bin/env python3
"""Check that the release signing keystore is still published before signing."""
import os
import sys

import gitlab

gl = gitlab.Gitlab(os.environ["CI_SERVER_URL"], job_token=os.environ["CI_JOB_TOKEN"])
# lazy: GET /projects/:id does not accept a job token.
signing = gl.projects.get("platform/signing", lazy=True)
names = [f.name for f in signing.secure_files.list(get_all=True)]
if "keystore.jks" not in names:
    sys.exit("keystore.jks is missing from platform/signing")
