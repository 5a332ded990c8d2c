#!/usr/bin/env bash
# Fetches Lowkey Vault (com.github.nagyesta.lowkey-vault:lowkey-vault-app, the Spring Boot fat jar)
# from Maven Central into a cache outside git, like the control plane; a no-op when it is there.
# Prints the jar's path as its last line. Exit 3 means "not obtainable here" (the registry refused
# it), so callers can tell that apart from a broken script.
#
#   LOWKEY_VAULT_VERSION  version to fetch (default below; 5.x and later need Java 25)
#   LOWKEY_VAULT_JAR      use this jar instead of fetching (it is checked, not copied)
#   KVSYNC_CACHE          cache root (default ~/.cache/kvsync)
set -euo pipefail

version=${LOWKEY_VAULT_VERSION:-7.3.112}
artifact="com.github.nagyesta.lowkey-vault:lowkey-vault-app:$version:jar"
cache="${KVSYNC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvsync}/lowkey-vault/$version"
jar="$cache/lowkey-vault-app-$version.jar"

if [ -n "${LOWKEY_VAULT_JAR:-}" ]; then
  [ -f "$LOWKEY_VAULT_JAR" ] || { echo "fetch-lowkey-vault: LOWKEY_VAULT_JAR=$LOWKEY_VAULT_JAR does not exist" >&2; exit 2; }
  echo "$LOWKEY_VAULT_JAR"
  exit 0
fi

if [ -f "$jar" ]; then
  echo "$jar"
  exit 0
fi

command -v mvn >/dev/null 2>&1 || { echo "fetch-lowkey-vault: mvn is not installed (apt-get install maven)" >&2; exit 3; }

echo "fetch-lowkey-vault: fetching $artifact from Maven Central into $cache" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# -U: Maven remembers a failed look-up for a day; a new attempt should really ask again.
if ! mvn -B -q -U dependency:copy \
  -Dartifact="$artifact" -DoutputDirectory="$tmp" >"$tmp/mvn.log" 2>&1; then
  reason=$(grep -m1 -oE "(Could not find artifact|Could not transfer artifact|Unable to find artifact)[^[]*" "$tmp/mvn.log" || true)
  echo "fetch-lowkey-vault: Maven could not fetch $artifact: ${reason:-see below}" >&2
  [ -n "$reason" ] || tail -n 20 "$tmp/mvn.log" >&2
  exit 3
fi

# A fat jar is a zip with Spring Boot's launcher; refuse anything else before caching it.
if command -v unzip >/dev/null 2>&1 &&
  ! unzip -l "$tmp/lowkey-vault-app-$version.jar" 2>/dev/null | grep -q 'BOOT-INF/'; then
  echo "fetch-lowkey-vault: $artifact is not a Spring Boot fat jar" >&2
  exit 3
fi
mkdir -p "$cache"
mv "$tmp/lowkey-vault-app-$version.jar" "$jar.partial"
mv "$jar.partial" "$jar"
echo "$jar"
