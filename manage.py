#!/usr/bin/env python
import os
import sys

# commands that check the keys themselves (or need no database)
KEY_CHECK_EXEMPT = {"check", "rotate_field_key", "restore", "help", "makemigrations", "version", "compilemessages",
                    "makemessages", "collectstatic"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import execute_from_command_line

    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    if command not in KEY_CHECK_EXEMPT and not command.startswith("-"):
        django.setup()
        from roster.fieldkeys import field_keys_refuse_start

        field_keys_refuse_start()
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
