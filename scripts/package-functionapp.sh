#!/usr/bin/env bash
# Builds the Linux handler binary from the repo root and stages the Functions deployment package:
# exactly host.json, OpenSkyTimer/ and handler, in bin/functionapp (or $1). azd's prepackage hook
# runs this; `func azure functionapp publish` users can run it and publish from the staging folder.
# The binary goes straight into the staging folder, so a native ./handler built for `func start`
# stays as it is.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/bin/functionapp}"
cd "$root"

for f in host.json OpenSkyTimer/function.json; do
	if [[ ! -f "$f" ]]; then
		echo "package-functionapp: $f is missing; the deployment package needs host.json and OpenSkyTimer/" >&2
		exit 1
	fi
done

echo "package-functionapp: building handler for linux/amd64"
rm -rf "$out"
mkdir -p "$out"
GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go build -trimpath -o "$out/handler" ./cmd/handler
cp host.json "$out/"
cp -R OpenSkyTimer "$out/"
# The Functions host starts the binary directly: it must stay executable in the zip.
chmod 0755 "$out/handler"

echo "package-functionapp: staged $(cd "$out" && find . -type f | sort | tr '\n' ' ')in $out"
