#!/usr/bin/env bash
# The collection's documentation: `antsibull-docs lint-collection-docs --plugin-docs`, then a
# browsable site (every module, plugin and role, from their DOCUMENTATION and argument specs) made
# with `antsibull-docs sphinx-init` and built by Sphinx with warnings as errors, offline: the only
# intersphinx inventory is docs/ansible_devel.inv.txt, the Ansible labels the pages link to.
# The site ends up in build/docs/html (open build/docs/html/index.html).
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"

DOCS_VENV="$ROOT/.venv-docs"
venv_for "$DOCS_VENV" requirements-docs.txt

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
copy_collection "$work/collections"
export ANSIBLE_COLLECTIONS_PATH="$work/collections" PATH="$DOCS_VENV/bin:$PATH"

log "antsibull-docs lint-collection-docs --plugin-docs"
(cd "$work/collections/ansible_collections/netops/tcp" && antsibull-docs lint-collection-docs --plugin-docs .)

log "the documentation site (Sphinx, warnings are errors)"
site="$work/site"
mkdir -m 700 "$site" "$site/rst"  # antsibull-docs wants directories only their owner can write
antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error --no-add-antsibull-docs-version \
  --project netops.tcp --copyright 'netops.tcp contributors' --title 'netops.tcp' --html-short-title 'netops.tcp' \
  --dest-dir "$site" netops.tcp >/dev/null
python3 - "$site" docs/ansible_devel.inv.txt <<'PY'
import re, sys, zlib
site, listing = sys.argv[1:]
# Intersphinx from a local inventory only: no server is reachable.
lines = [line for line in open(listing) if line.strip() and not line.startswith('#')]
with open(site + '/ansible_devel.inv', 'wb') as inv:
    inv.write(b'# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n'
              b'# The remainder of this file is compressed using zlib.\n' + zlib.compress(''.join(lines).encode()))
conf = open(site + '/conf.py').read()
mapping = "intersphinx_mapping = {\n    'ansible_devel': ('https://docs.ansible.com/projects/ansible/devel/', %r),\n}" \
    % (site + '/ansible_devel.inv')
conf, count = re.subn(r'intersphinx_mapping = \{.*?\n\}', lambda _m: mapping, conf, flags=re.S)
assert count == 1, 'sphinx-init wrote no intersphinx_mapping to replace'
open(site + '/conf.py', 'w').write(conf)
PY
antsibull-docs --config-file "$site/antsibull-docs.cfg" collection --cleanup everything --fail-on-error --use-current \
  --squash-hierarchy --dest-dir "$site/rst" netops.tcp >/dev/null
sphinx-build -q -W --keep-going -b html -c "$site" "$site/rst" "$work/html"
rm -rf build/docs
mkdir -p build/docs
mv "$work/html" build/docs/html
log "the site is in build/docs/html ($(find build/docs/html -name '*.html' | wc -l) pages)"
