# Helpers shared by the scripts in this folder (sourced, not run).

# installed PACKAGE: true when the Debian package is installed.
installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# need_root WHO WHAT: sets AS_ROOT to the prefix that runs a command as root (nothing as root,
# sudo otherwise), or exits naming WHO and WHAT it needed root for.
need_root() {
  AS_ROOT=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then AS_ROOT=(sudo); else
      echo "$1: need root (or sudo) to $2" >&2
      exit 1
    fi
  fi
}
