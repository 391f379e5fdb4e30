#!/usr/bin/env bash
# azd preprovision hook, before every provisioning:
#
# 1. scripts/deploycheck refuses settings the deployed pipeline cannot carry (the Power BI push
#    limit, the Stream Analytics dedupe state against STREAM_ANALYTICS_UNITS), naming the limit,
#    before anything is created; otherwise it prints what main.bicep derives from the schedule
#    (OPENSKY_INTERVAL_MINUTES, OPENSKY_CREDITS_PER_DAY), which this stores with `azd env set` (azd reloads the environment
#    after a hook, so the provisioning that follows reads it).
# 2. A Key Vault left soft-deleted by `azd down` without --purge keeps its name, and the vault of
#    this environment has the same name: it is purged so the deployment can create it again (the
#    secret is written again from OPENSKY_CLIENT_SECRET).
# 3. scripts/asa-job.sh stop: ARM cannot change a running Stream Analytics job.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

if ! plan="$(cd "$root" && go run ./scripts/deploycheck)"; then
	echo "preprovision: nothing was provisioned. Change the setting named above (azd env set NAME value) and run azd up again." >&2
	exit 1
fi
# The environment azd is provisioning, which need not be the default one (azd up -e <name>).
env_args=()
if [[ -n "${AZURE_ENV_NAME:-}" ]]; then
	env_args=(--environment "$AZURE_ENV_NAME")
fi
while IFS='=' read -r name value; do
	if [[ -n "$name" && "${!name:-}" != "$value" ]]; then
		echo "preprovision: azd env set $name $value"
		azd env set "${env_args[@]}" "$name" "$value"
	fi
done <<<"$plan"

vault="${KEY_VAULT_NAME:-}"
if [[ -n "$vault" ]]; then
	deleted="$(az keyvault list-deleted --resource-type vault --query "[?name=='$vault'].name" -o tsv 2>/dev/null || true)"
	if [[ -n "$deleted" ]]; then
		echo "preprovision: Key Vault $vault is soft-deleted (azd down without --purge); purging it so this deployment can create it again"
		az keyvault purge --name "$vault" --output none
	fi
fi

"$here/asa-job.sh" stop
