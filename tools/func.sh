#!/usr/bin/env bash
# make func: run the built handler under Azure Functions Core Tools, after checking what that needs,
# so that a missing tool or emulator is named with how to get it instead of a bare "not found".
set -euo pipefail

if ! command -v func >/dev/null 2>&1; then
  cat >&2 <<'MSG'
make func needs Azure Functions Core Tools v4 (the `func` command), which is not on PATH. Install it with
  npm install -g azure-functions-core-tools@4 --unsafe-perm true
or Microsoft's packages (Debian/Ubuntu: azure-functions-core-tools-4 from packages.microsoft.com;
macOS: brew tap azure/functions && brew install azure-functions-core-tools@4; Windows: the MSI),
see https://learn.microsoft.com/azure/azure-functions/functions-run-local
It needs the internet once: the npm package downloads Core Tools when it is installed, and the first
`func start` downloads the extension bundle host.json names (it holds the timer trigger); both are
cached after that.
Without Core Tools, `make run` runs the same handler on its own schedule.
MSG
  exit 1
fi
version=$(func --version 2>/dev/null || true)
case "$version" in
  4.*) ;;
  *) echo "warning: func --version says '$version'; this project is run with Core Tools v4" >&2 ;;
esac

if [ ! -f local.settings.json ]; then
  cp local.settings.json.example local.settings.json
  echo "created local.settings.json from local.settings.json.example (git-ignored; edit it there)" >&2
fi
# The timer trigger keeps its schedule's state in AzureWebJobsStorage; the emulator's blob port is 10000.
if grep -Eq '"AzureWebJobsStorage"[[:space:]]*:[[:space:]]*"UseDevelopmentStorage=true"' local.settings.json &&
  ! (exec 3<>/dev/tcp/127.0.0.1/10000) 2>/dev/null; then
  cat >&2 <<'MSG'
note: local.settings.json sets AzureWebJobsStorage=UseDevelopmentStorage=true, and nothing answers on
127.0.0.1:10000: start the Azurite storage emulator first, or the host cannot run the timer:
  npm install -g azurite && azurite --silent --location .azurite &
MSG
fi
exec func start
