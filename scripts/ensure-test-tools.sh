#!/usr/bin/env bash
# Makes sure the container tools that the end-to-end tests drive are installed.
#
# Installs the missing ones when it can (root, with apt-get); otherwise it names the Debian
# packages to install and still exits 0, and the tests that need a tool fail saying so.
set -uo pipefail

# tool=Debian package (docker.io brings dockerd, which the docker tests run privately)
TOOLS=(skopeo=skopeo umoci=umoci podman=podman buildah=buildah dockerd=docker.io)

missing=()
for entry in "${TOOLS[@]}"; do
  command -v "${entry%%=*}" >/dev/null 2>&1 || missing+=("${entry#*=}")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-tools: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq >/dev/null &&
    apt-get install -y -qq "${missing[@]}" >/dev/null; then
    exit 0
  fi
  echo "ensure-test-tools: apt-get could not install ${missing[*]}" >&2
fi

echo "ensure-test-tools: missing Debian packages: ${missing[*]}" >&2
echo "ensure-test-tools: install them (apt-get install ${missing[*]}) or the end-to-end tests fail" >&2
exit 0
