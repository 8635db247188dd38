# Shared by scripts/run, scripts/test and .ci/run (sourced, not executed): find Python 3.11+,
# create .venv once, and (re)install the project only when pyproject.toml or the lock changed.

say() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

VENV=.venv
# The pinned versions of everything installed (./scripts/lock refreshes it).
LOCK=requirements/constraints.txt

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11 python; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# Debian and Ubuntu ship venv (ensurepip) in a separate package; install it when we may.
install_venv_support() {
    local py=$1 version
    version=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "Python's venv module is missing; installing python${version}-venv with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq "python${version}-venv" >/dev/null \
            || apt-get install -y -qq python3-venv >/dev/null
    else
        die "Python's venv module is missing; install it (Debian/Ubuntu: sudo apt-get install python${version}-venv) and run again"
    fi
}

ensure_venv() {
    # A .venv left half-made (no pip, say, after an interrupted first run) is made again.
    if [ -x "$VENV/bin/python" ] \
        && "$VENV/bin/python" -c 'import sys, pip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        return 0
    fi
    local py
    py=$(find_python) || die "Python 3.11 or newer is needed (python3 --version says: $(python3 --version 2>&1 || echo 'no python3'))"
    say "Creating $VENV with $("$py" --version 2>&1) ($py)"
    rm -rf "$VENV"
    if ! "$py" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        install_venv_support "$py"
        "$py" -m venv "$VENV" || { rm -rf "$VENV"; die "could not create $VENV"; }
    fi
}

# ensure_installed [EXTRAS]: pip install -e ".[EXTRAS]" within the pinned versions of $LOCK, unless
# the stamp says these extras (comma-separated: test,dask) are installed from this pyproject.toml
# and this lock. Extras installed before are installed again with them, so a refreshed lock moves
# every package in .venv, and a plain run after a test run reinstalls nothing.
ensure_installed() {
    local want=${1:-} digest stamp=$VENV/.installed have_digest="" have="" extras spec
    [ -f "$LOCK" ] || die "$LOCK is missing; make it with ./scripts/lock"
    digest=$(cat pyproject.toml "$LOCK" | sha256sum | cut -d' ' -f1)
    if [ -f "$stamp" ]; then
        read -r have_digest have <"$stamp" || true
    fi
    if [ "$have_digest" = "$digest" ] && [ "$(extras_of "$have" "$want")" = "$(extras_of "$have")" ]; then
        return 0
    fi
    extras=$(extras_of "$have" "$want")
    spec=.${extras:+[$extras]}
    say "Installing the project into $VENV (pip install -c $LOCK -e '$spec'); this takes a minute the first time"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -c "$LOCK" -e "$spec" \
        || die "pip install -c $LOCK -e '$spec' failed (see above)"
    printf '%s %s\n' "$digest" "$extras" >"$stamp"
}

# extras_of LIST...: the extras named in comma-separated lists, sorted, once each: "dask,test".
extras_of() {
    local IFS=,
    # shellcheck disable=SC2048,SC2086  # splitting on commas is the point
    printf '%s\n' $* | sed '/^$/d' | sort -u | paste -sd, -
}
