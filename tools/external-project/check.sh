#!/usr/bin/env bash
# Builds vqclip, installs it into the local Maven repository, then builds and runs this external
# project against the installed artifacts as a user would, and reports what a user inherits.
# Usage: tools/external-project/check.sh [--installed]   (--installed: skip the install; needs Java 17+ and Maven)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# Maven's evaluated values, without the colour codes some Maven versions add even with -B.
evaluate() { mvn -B -q -Dstyle.color=never help:evaluate -Dexpression="$1" -DforceStdout | sed 's/\x1b\[[0-9;]*m//g'; }
repo="$(evaluate settings.localRepository 2>/dev/null || echo "$HOME/.m2/repository")"

if [[ "${1:-}" != "--installed" ]]; then
  (cd "$root" && mvn -B -q install -DskipTests)
fi
cd "$here"
mvn -B -q clean package   # clean: a stale class compiled against older jars must not survive
cp_file="$(mktemp)"
mvn -B -q dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
java -cp "target/classes:$(cat "$cp_file")" example.Generate "$(mktemp -d)/out.png"

# What IDEs show: every vqclip jar has its sources and javadoc beside it.
version="$(evaluate vqclip.version)"
for m in vqclip-core vqclip-onnx vqclip-augment vqclip-demo; do
  for kind in sources javadoc; do
    f="$repo/ai/vqclip/$m/$version/$m-$version-$kind.jar"
    [[ -s "$f" ]] || { echo "missing $f" >&2; exit 1; }
  done
  # grep reads the whole listing (no -q): with pipefail, -q's early exit fails unzip on SIGPIPE for big jars.
  unzip -l "$repo/ai/vqclip/$m/$version/$m-$version-javadoc.jar" | grep "index.html" >/dev/null || { echo "$m javadoc jar has no index.html" >&2; exit 1; }
done
tr ':' '\n' < "$cp_file" | awk 'NF' > "$cp_file.list"
jars="$(wc -l < "$cp_file.list")"
bytes="$(xargs -a "$cp_file.list" stat -c %s | awk '{s+=$1} END {print s}')"
printf 'external project OK: %s jars on its class path, %.0f MB\n' "$jars" "$(echo "$bytes / 1000000" | bc -l)"
