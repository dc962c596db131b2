#!/usr/bin/env bash
# The VM tier's disk and kernels, built once from Debian's packages and cached:
#   $VM_CACHE/base.img          a raw ext4 image of a Debian 13 (trixie) root: systemd, sshd,
#                               python3, ipvsadm, nftables, conntrack, TuneD (disabled), no kernel
#                               config of ours: tests change it on their own overlays only
#   $VM_CACHE/boot/<release>/   vmlinuz and initrd.img of each kernel line Debian ships now:
#                               bullseye 5.10, bookworm 6.1, trixie 6.12, trixie-backports 7.3
#   $VM_CACHE/id_ed25519        the key the tests log in with (root, authorized in the image)
# Every VM runs on its own qcow2 overlay of base.img (tests/vm/harness.py), so the image never
# changes once built. Installs qemu-system-x86, qemu-utils and debootstrap on this machine; never
# changes this machine's own settings. About 5 minutes cold, nothing warm.
#   scripts/vm-image.sh            build when missing or when this script changed
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
VM_CACHE="${NETOPS_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/netops.tcp/vm}"
apt_need qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils debootstrap:debootstrap mkfs.ext4:e2fsprogs

# The image is rebuilt when what builds it changes.
STAMP="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
if [[ "$(cat "$VM_CACHE/.stamp" 2>/dev/null)" == "$STAMP" && -f "$VM_CACHE/base.img" ]]; then
  exit 0
fi

MIRROR=http://deb.debian.org/debian
# Kernels: the newest cloud flavour of each line (the cloud kernels boot fastest and carry virtio,
# ext4, netfilter and IPVS as modules); the package each suite's linux-image-cloud-amd64 points to.
KERNEL_SUITES=(bullseye bookworm trixie trixie-backports)
PACKAGES=systemd-sysv,udev,kmod,openssh-server,python3,iproute2,procps,ipvsadm,nftables,conntrack,initramfs-tools,zstd,ca-certificates

log "building the VM image in $VM_CACHE (once; about 5 minutes)"
work="$VM_CACHE.build"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
rootfs="$work/root"
debootstrap --variant=minbase --include="$PACKAGES" trixie "$rootfs" "$MIRROR" >/dev/null

cat > "$rootfs/etc/apt/sources.list" <<EOF
deb $MIRROR trixie main
deb $MIRROR trixie-backports main
deb $MIRROR bookworm main
deb $MIRROR bullseye main
EOF
# Only the kernels come from the other suites.
cat > "$rootfs/etc/apt/preferences.d/kernels" <<'EOF'
Package: *
Pin: release n=trixie
Pin-Priority: 900

Package: *
Pin: release n=trixie-backports
Pin-Priority: 100

Package: *
Pin: release n=bookworm
Pin-Priority: 50

Package: *
Pin: release n=bullseye
Pin-Priority: 50
EOF
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
# Packages' postinst scripts would start their daemons in the chroot: policy-rc.d refuses them.
printf '#!/bin/sh\nexit 101\n' > "$rootfs/usr/sbin/policy-rc.d"
chmod +x "$rootfs/usr/sbin/policy-rc.d"

# in_root CMD: CMD in the root with /proc, /sys and /dev mounted in a private mount namespace
# (update-initramfs needs them), this machine's mounts untouched.
in_root() {
  # shellcheck disable=SC2016  # the script in single quotes is the inner shell's
  unshare --mount --propagation private --fork -- /bin/sh -ec '
    r=$1; shift
    mount -t proc proc "$r/proc"
    mount --rbind /dev "$r/dev"
    mount --rbind /sys "$r/sys"
    exec chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"
  ' sh "$rootfs" "$@"
}

in_root apt-get update -qq
# TuneD with apt: debootstrap does not resolve its polkitd -> logind alternative.
in_root apt-get install -y -qq --no-install-recommends tuned >/dev/null
kernels=()
for suite in "${KERNEL_SUITES[@]}"; do
  # linux-image-cloud-amd64 of that suite depends on exactly one linux-image-<abi>-cloud-amd64.
  pkg="$(in_root apt-cache show "linux-image-cloud-amd64/$suite" 2>/dev/null \
    | sed -n 's/^Depends: .*\(linux-image-[0-9][^ ,]*-cloud-amd64\).*/\1/p' | head -1)"
  [[ -n "$pkg" ]] || { log "no cloud kernel in $suite"; exit 1; }
  kernels+=("$pkg/$suite")
done
log "kernels: ${kernels[*]}"
# One at a time: the 7.3 one pulls a newer linux-base from backports, which the others accept.
for pkg in "${kernels[@]}"; do
  in_root apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
done

# The guest: DHCP on the user-mode NIC, root by key only, no daemon the tests did not ask for.
mkdir -p "$rootfs/etc/systemd/network" "$rootfs/root/.ssh"
printf '[Match]\nName=e*\n\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' \
  > "$rootfs/etc/systemd/network/10-user.network"
printf '/dev/vda / ext4 defaults,noatime 0 1\n' > "$rootfs/etc/fstab"
echo netops-vm > "$rootfs/etc/hostname"
[[ -f "$VM_CACHE/id_ed25519" ]] || { mkdir -p "$VM_CACHE"; ssh-keygen -q -t ed25519 -N '' -C netops-vm -f "$VM_CACHE/id_ed25519"; }
install -m 0600 "$VM_CACHE/id_ed25519.pub" "$rootfs/root/.ssh/authorized_keys"
printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n' > "$rootfs/etc/ssh/sshd_config.d/netops.conf"
in_root systemctl enable systemd-networkd.service ssh.service >/dev/null 2>&1
in_root systemctl disable tuned.service >/dev/null 2>&1 || true
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer dpkg-db-backup.timer \
  systemd-timesyncd.service; do
  in_root systemctl mask "$unit" >/dev/null 2>&1 || true
done
rm -f "$rootfs/usr/sbin/policy-rc.d" "$rootfs/etc/resolv.conf"
in_root apt-get clean

mkdir -p "$work/boot"
for image in "$rootfs"/boot/vmlinuz-*; do
  release="${image##*/vmlinuz-}"
  mkdir -p "$work/boot/$release"
  cp "$image" "$work/boot/$release/vmlinuz"
  cp "$rootfs/boot/initrd.img-$release" "$work/boot/$release/initrd.img"
done
# No loop mount: mkfs fills the file system from the directory. Old kernels (5.10) do not know
# ext4's orphan_file and metadata_csum_seed features.
mkfs.ext4 -q -F -L root -O ^orphan_file,^metadata_csum_seed -d "$rootfs" "$work/base.img" 3G

rm -rf "${VM_CACHE:?}/boot" "${VM_CACHE:?}/base.img"
mv "$work/boot" "$VM_CACHE/boot"
mv "$work/base.img" "$VM_CACHE/base.img"
echo "$STAMP" > "$VM_CACHE/.stamp"
releases=("$VM_CACHE"/boot/*)
log "VM image ready: $(du -sh "$VM_CACHE/base.img" | cut -f1) of a 3 GB image used; kernels: ${releases[*]##*/}"
