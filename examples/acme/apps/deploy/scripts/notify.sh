#!/bin/sh
# notify.sh ENVIRONMENT: start the smoke tests after a deployment.
set -eu
env_name=$1
curl --fail --request POST \
  --form "token=${CI_JOB_TOKEN}" \
  --form ref=main \
  --form "variables[TARGET_ENV]=${env_name}" \
  "${CI_API_V4_URL}/projects/${SMOKE_TESTS_PROJECT_ID:-307}/trigger/pipeline"
