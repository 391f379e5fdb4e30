#!/usr/bin/env bash
# Adds the Stream Analytics job's managed identity to a Power BI workspace as Contributor, so the
# job's Power BI outputs (authenticationMode Msi) can create and fill their datasets. This is a
# Power BI REST call, not an Azure role assignment:
#
#   POST https://api.powerbi.com/v1.0/myorg/groups/{groupId}/users
#   {"identifier": "<principal id>", "groupUserAccessRight": "Contributor", "principalType": "App"}
#
#   scripts/grant-powerbi.sh [workspace-id] [principal-id]
#
# Both default to POWERBI_WORKSPACE_ID and STREAM_ANALYTICS_PRINCIPAL_ID (outputs of
# infra/main.bicep; azd passes them to hooks and `azd env get-values` prints them). Run it signed in
# (`az login`) as an admin of the workspace. The Power BI tenant must allow service principals to use
# the Power BI APIs (admin portal, tenant settings, developer settings).
set -euo pipefail

workspace="${1:-${POWERBI_WORKSPACE_ID:-}}"
principal="${2:-${STREAM_ANALYTICS_PRINCIPAL_ID:-}}"

if [[ -z "$workspace" || -z "$principal" ]]; then
	echo "usage: $0 [workspace-id] [principal-id]" >&2
	echo "       (defaults: POWERBI_WORKSPACE_ID and STREAM_ANALYTICS_PRINCIPAL_ID, e.g. from azd env get-values)" >&2
	exit 2
fi

guid='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
for v in "$workspace" "$principal"; do
	if [[ ! "$v" =~ $guid ]]; then
		echo "grant-powerbi: $v is not a GUID; pass the workspace id (from its URL, /groups/<id>/) and the job's principal id" >&2
		exit 2
	fi
done

body="{\"identifier\": \"$principal\", \"groupUserAccessRight\": \"Contributor\", \"principalType\": \"App\"}"
echo "grant-powerbi: adding $principal to workspace $workspace as Contributor"
if out="$(az rest --method post \
	--resource https://analysis.windows.net/powerbi/api \
	--url "https://api.powerbi.com/v1.0/myorg/groups/$workspace/users" \
	--headers Content-Type=application/json \
	--body "$body" 2>&1)"; then
	echo "grant-powerbi: done"
elif grep -qi 'AlreadyExists' <<<"$out"; then
	echo "grant-powerbi: the identity already has access to the workspace"
else
	echo "$out" >&2
	echo "grant-powerbi: failed. Check that you are an admin of the workspace and that the tenant lets" >&2
	echo "               service principals use the Power BI APIs." >&2
	exit 1
fi
