#!/usr/bin/env bash
# Checks what a release publishes, and what a user's project gets from it:
#  1. deploys the published modules twice with -Prelease to file repositories under
#     consumer-tests/target/check-publish/ (the second time signed with a throw-away GnuPG key), and checks that
#     every published module has its jar, pom, sources and Javadoc jars, that the poms carry the
#     metadata a repository requires (name, description, URL, license, SCM, developers), that
#     nothing unpublished is there, that the signed build has a good signature for every file, and
#     that both builds made identical files (reproducible builds);
#  2. resolves consumer-tests/bom-consumer offline (against ~/.m2, where the deploys also
#     installed) and fails when its dependency tree holds two versions of protobuf, gRPC or SLF4J,
#     then shows that the same project without the BOM does mix versions (so the check can fail);
#  3. builds the plugin and host projects of docs/maven.md (consumer-tests/plugin-project and
#     host-project, which the page shows verbatim) offline, and runs the host with the plugin;
#  4. builds the plugin project's image with `goplugin4j image` of the installed CLI artifact and
#     runs it under upstream plugincontainer's Go host (runsc and runc), with the commands of
#     docs/maven.md as they are there, then the same image built with --no-archive (the smallest)
#     under both runtimes too. Needs Docker with runsc registered and Go 1.24+.
# Usage: scripts/check-publish.sh [extra maven options]. Needs gpg, python3, and the build's
# dependencies in ~/.m2 (scripts/test.sh runs it after the build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/consumer-tests/target/check-publish
published=bom,protocol,host,server,container,micrometer,opentelemetry,cli
rm -rf "$out"
mkdir -p "$out"
gnupg=$(mktemp -d /tmp/check-publish-gnupg.XXXXXX)
cleanup() {
  GNUPGHOME=$gnupg gpgconf --kill all >/dev/null 2>&1 || true
  rm -rf "$gnupg"
}
trap cleanup EXIT

deploy() { # deploy <repo dir> <log> [maven options]
  local repo=$1 log=$2
  shift 2
  # clean only the published modules: the root's clean would remove target/ (the Go peers' cache)
  if ! { mvn -B -ntp -pl "$published" clean "$@" &&
      mvn -B -ntp -Prelease -Dmaven.test.skip=true -pl "$published" -am deploy \
        -DaltDeploymentRepository="local::file:$repo" "$@"; } >"$log" 2>&1; then
    tail -60 "$log" >&2
    echo "check-publish: ERROR: the release build failed (log: $log)" >&2
    exit 1
  fi
}

echo "check-publish: release build 1 (unsigned: no key configured) -> $out/repo1"
deploy "$out/repo1" "$out/deploy1.log" "$@"

echo "check-publish: release build 2, signed with a throw-away key -> $out/repo2"
chmod 700 "$gnupg"
GNUPGHOME=$gnupg gpg --batch --quiet --passphrase '' \
  --quick-generate-key 'goplugin4j check-publish <check-publish@invalid>' ed25519 sign 1d 2>"$out/gpg.log"
key=$(GNUPGHOME=$gnupg gpg --batch --with-colons --list-secret-keys 2>>"$out/gpg.log" | awk -F: '/^fpr/ {print $10; exit}')
(export GNUPGHOME=$gnupg; deploy "$out/repo2" "$out/deploy2.log" -Dgpg.keyname="$key" "$@")

GNUPGHOME=$gnupg python3 - "$out/repo1" "$out/repo2" <<'EOF'
import glob, hashlib, os, re, subprocess, sys, zipfile
import xml.etree.ElementTree as ET

repo1, repo2 = sys.argv[1], sys.argv[2]
NS = {'m': 'http://maven.apache.org/POM/4.0.0'}
G = 'dev/goplugin4j'
POM_ONLY = ['goplugin4j-bom', 'goplugin4j-parent']
JARS = ['goplugin4j-protocol', 'goplugin4j-host', 'goplugin4j-server', 'goplugin4j-container',
        'goplugin4j-micrometer', 'goplugin4j-opentelemetry', 'goplugin4j-cli']
errors = []

def files(repo, artifact):
    """classifier.ext -> path of the newest deployed file of that kind."""
    found = {}
    for path in sorted(glob.glob(f'{repo}/{G}/{artifact}/*/{artifact}-*')):
        name = os.path.basename(path)
        if name.endswith(('.md5', '.sha1', '.sha256', '.sha512')):
            continue
        m = re.match(rf'{artifact}-[0-9][^-]*(?:-SNAPSHOT|-\d{{8}}\.\d{{6}}-\d+)?(?:-([a-z]+))?\.(jar|pom)(\.asc)?$', name)
        if not m:
            errors.append(f'{repo}: unexpected file {name}')
            continue
        found[f'{m.group(1) or ""}.{m.group(2)}{m.group(3) or ""}'] = path
    return found

deployed = sorted(os.listdir(f'{repo1}/{G}'))
if deployed != sorted(POM_ONLY + JARS):
    errors.append(f'deployed artifacts {deployed}, expected exactly {sorted(POM_ONLY + JARS)}'
                  ' (an unpublished module lacks <maven.deploy.skip>true, or a published one is missing)')

def pom(path):
    return ET.parse(path).getroot()

def text(e, path):
    x = e.find(path, NS)
    return None if x is None or x.text is None else x.text.strip()

for artifact in POM_ONLY + JARS:
    f = files(repo1, artifact)
    want = ['.pom'] if artifact in POM_ONLY else ['.pom', '.jar', 'sources.jar', 'javadoc.jar']
    if artifact == 'goplugin4j-cli':
        want.append('all.jar')
    for kind in want:
        if kind not in f:
            errors.append(f'{artifact}: no {kind} deployed')
    if any(k.endswith('.asc') for k in f):
        errors.append(f'{artifact}: signed although no key was configured')
    if 'sources.jar' in f and not any(n.endswith('.java') for n in zipfile.ZipFile(f['sources.jar']).namelist()):
        errors.append(f'{artifact}: sources jar without .java files')
    if 'javadoc.jar' in f and 'index.html' not in zipfile.ZipFile(f['javadoc.jar']).namelist():
        errors.append(f'{artifact}: javadoc jar without index.html')
    # the metadata a repository requires, as a consumer sees it: own or inherited from a parent
    # that is deployed too
    chain, p = [], f.get('.pom')
    while p:
        e = pom(p)
        chain.append(e)
        parent = e.find('m:parent', NS)
        if parent is None:
            break
        pa = text(parent, 'm:artifactId')
        p = files(repo1, pa).get('.pom')
        if p is None:
            errors.append(f'{artifact}: its parent {pa} is not deployed')
    def inherited(path):
        for e in chain:
            if e.find(path, NS) is not None:
                return e.find(path, NS)
        return None
    for field in ['m:name', 'm:description']:
        if chain and chain[0].find(field, NS) is None:
            errors.append(f'{artifact}: no {field[2:]} of its own')
    for field in ['m:url', 'm:licenses/m:license/m:name', 'm:licenses/m:license/m:url', 'm:scm/m:url',
                  'm:scm/m:connection', 'm:developers/m:developer/m:name']:
        if inherited(field) is None:
            errors.append(f'{artifact}: no {field.replace("m:", "")} (own or inherited)')
    url = inherited('m:url')
    if url is not None and artifact in url.text:
        errors.append(f'{artifact}: url {url.text} has the artifact appended')

bom = pom(files(repo1, 'goplugin4j-bom')['.pom'])
if bom.find('m:parent', NS) is not None:
    errors.append('goplugin4j-bom has a parent: importing it would manage whatever the parent manages')
managed = {text(d, 'm:artifactId') for d in bom.findall('m:dependencyManagement/m:dependencies/m:dependency', NS)}
for a in JARS + ['grpc-bom', 'protobuf-java', 'protobuf-java-util', 'slf4j-api', 'bcprov-jdk18on',
                 'bcpkix-jdk18on']:
    if a not in managed:
        errors.append(f'goplugin4j-bom does not manage {a}')
for a in ['goplugin4j-testkit', 'goplugin4j-interop-tests', 'junit-bom', 'assertj-core']:
    if a in managed:
        errors.append(f'goplugin4j-bom manages {a}, which users do not get from us')

# signed build: a good signature for every file; reproducible: the same bytes in both builds
for artifact in POM_ONLY + JARS:
    f1, f2 = files(repo1, artifact), files(repo2, artifact)
    for kind, path in sorted(f2.items()):
        if kind.endswith('.asc'):
            continue
        sig = f2.get(kind + '.asc')
        if sig is None:
            errors.append(f'{artifact} {kind}: not signed in the signed build')
        else:
            r = subprocess.run(['gpg', '--batch', '--verify', sig, path], capture_output=True, text=True)
            if r.returncode != 0:
                errors.append(f'{artifact} {kind}: bad signature: {r.stderr.strip()}')
        if kind not in f1:
            continue
        h1 = hashlib.sha256(open(f1[kind], 'rb').read()).hexdigest()
        h2 = hashlib.sha256(open(path, 'rb').read()).hexdigest()
        if h1 != h2:
            errors.append(f'{artifact} {kind}: not reproducible, two builds differ ({h1[:12]} vs {h2[:12]})')

if errors:
    print('check-publish: ERROR:\n  ' + '\n  '.join(errors), file=sys.stderr)
    sys.exit(1)
count = sum(len(files(repo1, a)) for a in POM_ONLY + JARS)
print(f'check-publish: {len(POM_ONLY + JARS)} artifacts, {count} files: jar, pom, sources and javadoc'
      ' for every published module, metadata complete, every file signed by the signed build,'
      ' both builds identical')
EOF

# what the build tests with, as the deployed BOM says
version=$(python3 -c 'import sys,xml.etree.ElementTree as E; print(E.parse(sys.argv[1]).getroot().find("{http://maven.apache.org/POM/4.0.0}version").text)' bom/pom.xml)
dep=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
tree() { # tree <project dir> <output file> [maven options]
  local dir=$1 file=$2
  shift 2
  (cd "$dir" && mvn -B -ntp -q "$@" $dep:tree -Dgoplugin4j.version="$version" -DoutputFile="$file") \
    >"$file.log" 2>&1 || { cat "$file.log" >&2; echo "check-publish: ERROR: dependency:tree of $dir failed" >&2; exit 1; }
}
mixed() { # mixed <tree file>: prints the groups that appear with more than one version
  python3 - "$1" <<'EOF'
import re, sys
versions = {}
for line in open(sys.argv[1]):
    m = re.search(r'([\w.\-]+):([\w.\-]+):[\w\-]+(?::[\w.\-]+)?:([\w.\-]+):(compile|runtime|provided|test)', line)
    if not m:
        continue
    g, a, v = m.group(1), m.group(2), m.group(3)
    family = {'com.google.protobuf': 'protobuf', 'io.grpc': 'grpc', 'org.slf4j': 'slf4j'}.get(g)
    if family:
        versions.setdefault(family, set()).add(f'{a}:{v}')
for family, av in sorted(versions.items()):
    if len({x.split(':')[1] for x in av}) > 1:
        print(f'{family}: {", ".join(sorted(av))}')
EOF
}
echo "check-publish: consumer-tests/bom-consumer, offline, with the BOM"
tree consumer-tests/bom-consumer "$out/bom-consumer.tree" -o
bad=$(mixed "$out/bom-consumer.tree")
if [ -n "$bad" ]; then
  cat "$out/bom-consumer.tree" >&2
  echo "check-publish: ERROR: mixed versions with the BOM: $bad" >&2
  exit 1
fi
grep -q "org.slf4j:slf4j-api:jar:$(sed -n 's:.*<slf4j.version>\(.*\)</slf4j.version>.*:\1:p' bom/pom.xml):compile" \
  "$out/bom-consumer.tree" || { cat "$out/bom-consumer.tree" >&2; echo "check-publish: ERROR: not our slf4j-api" >&2; exit 1; }
echo "check-publish: the same project without the BOM (versions written out) must mix versions"
mkdir -p "$out/no-bom"
python3 - consumer-tests/bom-consumer/pom.xml "$out/no-bom/pom.xml" "$version" \
  "$(sed -n 's:.*<logback.version>\(.*\)</logback.version>.*:\1:p' bom/pom.xml)" <<'EOF'
import re, sys
src, dst, version, logback = sys.argv[1:]
s = open(src).read()
s = re.sub(r'<!-- BOM-IMPORT -->.*<!-- /BOM-IMPORT -->', '', s, flags=re.S)
s = s.replace('<artifactId>logback-classic</artifactId>', f'<artifactId>logback-classic</artifactId><version>{logback}</version>')
for a in ['goplugin4j-server', 'goplugin4j-host']:
    s = s.replace(f'<artifactId>{a}</artifactId>', f'<artifactId>{a}</artifactId><version>{version}</version>')
open(dst, 'w').write(s)
EOF
tree "$out/no-bom" "$out/no-bom.tree"
bad=$(mixed "$out/no-bom.tree")
if [ -z "$bad" ]; then
  echo "check-publish: ERROR: without the BOM the tree shows no mixed versions: the check cannot fail" >&2
  exit 1
fi
echo "check-publish: without the BOM (as expected): $(echo $bad);" \
  "$(grep -o 'org.slf4j:slf4j-api:jar:[^:]*' "$out/no-bom.tree" | head -1) (logback's) instead of ours"

echo "check-publish: docs/maven.md's plugin and host projects, offline"
for p in plugin-project host-project; do
  python3 - docs/maven.md "consumer-tests/$p/pom.xml" consumer-tests/host-project/src/main/resources/logback.xml <<'EOF' || exit 1
import sys
md = open(sys.argv[1]).read()
for f in sys.argv[2:]:
    if '```xml\n' + open(f).read() + '```' not in md:
        sys.exit(f'check-publish: ERROR: {sys.argv[1]} must show {f} verbatim; copy it in')
EOF
  (cd "consumer-tests/$p" && mvn -B -ntp -q -o clean package -Dgoplugin4j.version="$version") \
    >"$out/$p.log" 2>&1 || { cat "$out/$p.log" >&2; echo "check-publish: ERROR: consumer-tests/$p does not build" >&2; exit 1; }
done
(cd consumer-tests/host-project && mvn -B -ntp -q -o $dep:build-classpath \
  -Dgoplugin4j.version="$version" -Dmdep.outputFile="$out/host.classpath") >"$out/host-classpath.log" 2>&1
work=$(mktemp -d /tmp/check-publish-run.XXXXXX)
trap 'cleanup; rm -rf "$work"' EXIT
launcher=consumer-tests/plugin-project/target/kv-plugin
cat >"$launcher" <<'LAUNCHER'
#!/bin/sh
DIR=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
exec java -Xlog:disable -Xlog:all=warning:stderr -cp "$DIR/kv-plugin-1.0.0.jar:$DIR/lib/*" com.example.kv.KvPlugin
LAUNCHER
python3 -c 'import sys; sys.exit(open(sys.argv[1]).read() not in open(sys.argv[2]).read())' "$launcher" docs/maven.md \
  || { echo "check-publish: ERROR: docs/maven.md must show the launcher $launcher verbatim" >&2; exit 1; }
chmod +x "$launcher"
got=$(cd "$work" && java -cp "$root/consumer-tests/host-project/target/kv-host-1.0.0.jar:$(cat "$out/host.classpath")" \
  com.example.kvhost.KvHost "$root/$launcher" 2>"$out/run.log") || { cat "$out/run.log" >&2; echo "check-publish: ERROR: the host project could not run the plugin project" >&2; exit 1; }
if [ "$got" != world ]; then # stdout holds only what the host prints: logback.xml logs to stderr
  cat "$out/run.log" >&2
  echo "check-publish: ERROR: the host project printed '$got', expected 'world'" >&2
  exit 1
fi
echo "check-publish: the host project ran the plugin project: put hello=world, got 'world'"

# 4. the plugin project's image, built with the CLI of the installed artifacts as docs/maven.md
#    shows it (its two command blocks, run as they are there, Maven offline), loaded by upstream
#    plugincontainer's Go host (the project's src/test/go) under runsc, as shown, and runc
echo "check-publish: docs/maven.md's plugin image: goplugin4j image from the installed CLI, plugincontainer's Go host (runsc, runc)"
block() { # block <marker>: the sh block after <!-- marker --> in docs/maven.md
  python3 - docs/maven.md "$1" <<'EOF'
import re, sys
m = re.search(r'<!-- ' + re.escape(sys.argv[2]) + r' -->\n```sh\n(.*?)```', open(sys.argv[1]).read(), re.S)
if not m:
    sys.exit(f'check-publish: ERROR: no ```sh block after <!-- {sys.argv[2]} --> in {sys.argv[1]}')
print(m.group(1), end='')
EOF
}
block image-build | sed 's/^mvn /mvn -o /' >"$work/image-build.sh"
block image-host >"$work/image-host.sh"
grep -q -- '-runtime runsc' "$work/image-host.sh" || { echo "check-publish: ERROR: the image-host block must use -runtime runsc" >&2; exit 1; }
sed 's/-runtime runsc/-runtime runc/' "$work/image-host.sh" >"$work/image-host-runc.sh"
image_ref=$(sed -n 's/.*--image \([^ ]*\).*/\1/p' "$work/image-build.sh")
[ -n "$image_ref" ] || { echo "check-publish: ERROR: no --image NAME:TAG in the image-build block" >&2; exit 1; }
trap 'cleanup; rm -rf "$work"; docker rmi "$image_ref" >/dev/null 2>&1 || true' EXIT
(cd consumer-tests/plugin-project && sh -eu "$work/image-build.sh") >"$out/image-build.log" 2>&1 \
  || { cat "$out/image-build.log" >&2; echo "check-publish: ERROR: building the plugin project's image failed" >&2; exit 1; }
image_id=$(cat consumer-tests/plugin-project/target/image.id)
case "$image_id" in sha256:?*) ;; *) cat "$out/image-build.log" >&2; echo "check-publish: ERROR: goplugin4j image printed '$image_id', not an image ID" >&2; exit 1 ;; esac
size=$(docker image inspect -f '{{.Size}}' "$image_ref")
# expect_world WHAT LOG COMMAND...: runs the Go host's command in the plugin project; it must
# print exactly 'world' (the value its put/get round trip read back)
expect_world() {
  what=$1 log=$2
  shift 2
  got=$(cd consumer-tests/plugin-project && "$@" 2>"$log") \
    || { cat "$log" >&2; echo "check-publish: ERROR: plugincontainer's Go host could not run $what" >&2; exit 1; }
  if [ "$got" != world ]; then
    cat "$log" >&2
    echo "check-publish: ERROR: the Go host printed '$got' running $what, expected 'world'" >&2
    exit 1
  fi
}
expect_world "the plugin image under runsc" "$out/image-host-runsc.log" sh -eu "$work/image-host.sh"
expect_world "the plugin image under runc" "$out/image-host-runc.log" sh -eu "$work/image-host-runc.sh"
docker rmi "$image_ref" >/dev/null
echo "check-publish: image $image_ref ($image_id, $((size / 1000000)) MB, $(grep -o 'built in [0-9.]* s' "$out/image-build.log" | tail -1)) ran under plugincontainer's Go host: put hello=world, got 'world' with runsc and runc"
# the same image without any CDS archive (--no-archive, the smallest), under runc and runsc too
small_tag=1.0.0-noarchive
sed -e "s/ --main / --no-archive --main /" -e "s#--image $image_ref#--image ${image_ref%%:*}:$small_tag#" \
  -e 's#> target/image.id#> target/image-noarchive.id#' "$work/image-build.sh" | grep -v '^mvn ' >"$work/image-build-small.sh"
grep -q -- '--no-archive' "$work/image-build-small.sh" || { echo "check-publish: ERROR: could not derive the --no-archive build from the image-build block" >&2; exit 1; }
(cd consumer-tests/plugin-project && sh -eu "$work/image-build-small.sh") >"$out/image-build-small.log" 2>&1 \
  || { cat "$out/image-build-small.log" >&2; echo "check-publish: ERROR: building the plugin project's --no-archive image failed" >&2; exit 1; }
small_id=$(cat consumer-tests/plugin-project/target/image-noarchive.id)
small_size=$(docker image inspect -f '{{.Size}}' "${image_ref%%:*}:$small_tag")
for rt in runsc runc; do
  expect_world "the --no-archive image under $rt" "$out/image-host-small-$rt.log" \
    target/kvhost -image "${image_ref%%:*}" -tag "$small_tag" -sha256 "$small_id" -runtime "$rt"
done
docker rmi "${image_ref%%:*}:$small_tag" >/dev/null
echo "check-publish: --no-archive image ($small_id, $((small_size / 1000000)) MB) ran under plugincontainer's Go host with runsc and runc"
echo "check-publish: all passed"
