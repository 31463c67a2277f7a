#!/bin/sh
# Creates Kanal's PostgreSQL role and database, and prints the URL for /etc/kanal/kanal.env.
#
#   sudo sh deploy/postgresql/setup.sh [ROLE] [DATABASE]      # default: kanal kanal
#
# Run it on the database host. Running it again keeps the database and gives the role a new
# password (update KANAL_DATABASE_URL then). Then, from /srv/kanal as the kanal user:
#   .venv/bin/python main.py --config /etc/kanal/config.toml db upgrade
# PSQL is how to reach the server as a superuser (default: the local postgres account).
set -eu

ROLE="${1:-kanal}"
DATABASE="${2:-kanal}"
PSQL="${PSQL:-sudo -u postgres psql}"
HOST="${KANAL_DB_HOST:-127.0.0.1}"

for name in "$ROLE" "$DATABASE"; do
    case "$name" in
        "" | [!a-z]* | *[!a-z0-9_]*)
            echo "setup.sh: '$name' must be lowercase letters, digits or _, starting with a letter" >&2
            exit 2
            ;;
    esac
done

# URL-safe, so it needs no escaping inside the database URL.
PASSWORD="$(python3 -c 'import secrets; print(secrets.token_hex(24))')"

# The password goes in on stdin, never on a command line other users can see.
{ printf "\\set password '%s'\n" "$PASSWORD"; cat <<'SQL'; } |
SELECT format('CREATE ROLE %I LOGIN', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'database', :'role', 'UTF8')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'database') \gexec
SELECT format('GRANT ALL ON DATABASE %I TO %I', :'database', :'role') \gexec
SQL
    $PSQL -X -q -v ON_ERROR_STOP=1 -d postgres -v role="$ROLE" -v database="$DATABASE"

# Migrations create the tables in the database's public schema: the role must own it.
$PSQL -X -q -v ON_ERROR_STOP=1 -d "$DATABASE" -v role="$ROLE" <<'SQL'
SELECT format('ALTER SCHEMA public OWNER TO %I', :'role') \gexec
SQL

echo "KANAL_DATABASE_URL=postgresql+psycopg://$ROLE:$PASSWORD@$HOST:5432/$DATABASE"
