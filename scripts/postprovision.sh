#!/usr/bin/env bash
# azd postprovision hook: gives the Stream Analytics job access to Power BI (when its outputs go
# there) and starts the job. Each step can be rerun by hand; docs/DEPLOY.md explains both.
set -euo pipefail

here="$(dirname "$0")"

if [[ "${POWERBI_ENABLED:-false}" == "true" ]]; then
	if ! "$here/grant-powerbi.sh"; then
		echo "postprovision: the job cannot write to Power BI yet, so it is not started." >&2
		echo "               Fix the grant, then run: scripts/grant-powerbi.sh && scripts/asa-job.sh start" >&2
		exit 1
	fi
fi
"$here/asa-job.sh" start
