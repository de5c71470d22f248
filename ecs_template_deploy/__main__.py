"""`python -m ecs_template_deploy`: the CLI."""
import sys

from ecs_template_deploy.cli import main

sys.exit(main())
