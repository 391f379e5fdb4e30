#!/usr/bin/env bash
# Starts, stops or shows the Stream Analytics job, through the ARM REST API (`az rest`, no CLI
# extension needed).
#
#   scripts/asa-job.sh start|stop|status [job-name] [resource-group]
#
# The job name and group default to STREAM_ANALYTICS_JOB_NAME and AZURE_RESOURCE_GROUP, which azd
# passes to its hooks (and `azd env get-values` prints). ARM refuses to change a running job, so
# azd's preprovision hook stops it and the postprovision hook starts it again. Before the first
# provisioning there is no job yet, and `stop` does nothing.
set -euo pipefail

api_version="2021-10-01-preview"
action="${1:-}"
job="${2:-${STREAM_ANALYTICS_JOB_NAME:-}}"
group="${3:-${AZURE_RESOURCE_GROUP:-}}"

usage() {
	echo "usage: $0 start|stop|status [job-name] [resource-group]" >&2
	echo "       (job and group default to STREAM_ANALYTICS_JOB_NAME and AZURE_RESOURCE_GROUP)" >&2
	exit 2
}

case "$action" in
start | stop | status) ;;
*) usage ;;
esac

if [[ -z "$job" || -z "$group" ]]; then
	if [[ "$action" == "stop" ]]; then
		echo "asa-job: no job provisioned yet; nothing to stop"
		exit 0
	fi
	usage
fi

subscription="${AZURE_SUBSCRIPTION_ID:-$(az account show --query id -o tsv)}"
id="/subscriptions/$subscription/resourceGroups/$group/providers/Microsoft.StreamAnalytics/streamingjobs/$job"

# state prints the job state (Created, Starting, Running, Stopping, Stopped, Failed, ...), or
# NotFound.
state() {
	az rest --method get --url "$id?api-version=$api_version" --query properties.jobState -o tsv 2>/dev/null || echo NotFound
}

# wait_for polls until the job reaches one of the given states, for at most 10 minutes.
wait_for() {
	local s
	for _ in $(seq 1 60); do
		s="$(state)"
		for want in "$@"; do
			if [[ "$s" == "$want" ]]; then
				echo "$s"
				return 0
			fi
		done
		sleep 10
	done
	echo "$s"
	return 1
}

current="$(state)"
case "$action" in
status)
	echo "$current"
	;;
stop)
	case "$current" in
	Running | Starting | Degraded | Restarting)
		echo "asa-job: stopping $job"
		az rest --method post --url "$id/stop?api-version=$api_version" --output none
		wait_for Stopped Failed >/dev/null
		echo "asa-job: $job is $(state)"
		;;
	*)
		echo "asa-job: $job is $current; nothing to stop"
		;;
	esac
	;;
start)
	case "$current" in
	Running | Starting)
		echo "asa-job: $job is already $current"
		exit 0
		;;
	NotFound)
		echo "asa-job: job $job not found in $group" >&2
		exit 1
		;;
	esac
	# Resume where the job stopped so no event in the hub (kept 1 day) is skipped; a job that never
	# wrote anything starts now.
	mode="JobStartTime"
	last="$(az rest --method get --url "$id?api-version=$api_version" --query properties.lastOutputEventTime -o tsv 2>/dev/null || true)"
	if [[ -n "$last" && "$last" != "None" ]]; then
		mode="LastOutputEventTime"
	fi
	echo "asa-job: starting $job ($mode)"
	az rest --method post --url "$id/start?api-version=$api_version" \
		--headers Content-Type=application/json \
		--body "{\"outputStartMode\": \"$mode\"}" --output none
	if final="$(wait_for Running Failed)" && [[ "$final" == "Running" ]]; then
		echo "asa-job: $job is Running"
	else
		echo "asa-job: $job is $final. See the job's Activity log in the portal. Usual causes: the" >&2
		echo "         role assignments are still propagating (wait a few minutes and run" >&2
		echo "         scripts/asa-job.sh start again), or the job has no access to the Power BI" >&2
		echo "         workspace yet (scripts/grant-powerbi.sh)." >&2
		exit 1
	fi
	;;
esac
