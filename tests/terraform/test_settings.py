"""Settings, provider files and the runner's plumbing, with fake binaries:
no Terraform needed."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.terraform import Terraform, TerraformError, TerraformSettings
from harness.terraform.provider import MAX_RETRIES, OVERRIDE_FILE, SERVICES, cli_config

ROOT = Path(__file__).resolve().parents[2]


def fake_binary(directory: Path, name: str, script: str = "echo fake") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    (root / "registry.terraform.io" / "hashicorp" / "aws").mkdir(parents=True)
    return root


def test_terraform_is_preferred_to_tofu_on_path(tmp_path):
    bin_dir = tmp_path / "bin"
    fake_binary(bin_dir, "tofu")
    terraform = fake_binary(bin_dir, "terraform")
    settings = TerraformSettings.from_env({"PATH": str(bin_dir)})
    assert settings.binary == str(terraform)


def test_tofu_is_used_when_it_is_the_only_one(tmp_path):
    tofu = fake_binary(tmp_path / "bin", "tofu")
    assert TerraformSettings.from_env({"PATH": str(tmp_path / "bin")}).binary == str(tofu)


def test_harness_terraform_names_the_binary(tmp_path):
    custom = fake_binary(tmp_path / "elsewhere", "my-terraform")
    settings = TerraformSettings.from_env({"PATH": "", "HARNESS_TERRAFORM": str(custom)})
    assert settings.binary == str(custom)
    assert settings.problem() is None


def test_a_missing_binary_is_a_problem_that_says_how_to_fix_it(tmp_path):
    settings = TerraformSettings.from_env({"PATH": str(tmp_path), "HARNESS_TERRAFORM": "nope"})
    assert settings.binary is None
    assert "nope not found" in settings.problem()
    assert "HARNESS_TERRAFORM" in settings.problem()
    assert "HARNESS_TF_PROVIDER_MIRROR" in settings.problem()


def test_a_mirror_without_registry_layout_is_a_problem(tmp_path):
    fake_binary(tmp_path / "bin", "terraform")
    settings = TerraformSettings.from_env({"PATH": str(tmp_path / "bin"), "HARNESS_TF_PROVIDER_MIRROR": str(tmp_path)})
    assert "holds no hashicorp/aws provider" in settings.problem()


def test_plugin_cache_defaults_to_the_user_cache_and_can_be_set(tmp_path):
    default = TerraformSettings.from_env({"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert default.plugin_cache == tmp_path / "xdg" / "ecs-template-deploy" / "terraform-plugins"
    chosen = TerraformSettings.from_env({"HARNESS_TF_PLUGIN_CACHE": str(tmp_path / "c"), "TF_PLUGIN_CACHE_DIR": "x"})
    assert chosen.plugin_cache == tmp_path / "c"
    users = TerraformSettings.from_env({"TF_PLUGIN_CACHE_DIR": str(tmp_path / "mine")})
    assert users.plugin_cache == tmp_path / "mine"


def test_a_named_but_absent_user_cli_config_is_ignored(tmp_path):
    assert TerraformSettings.from_env({"TF_CLI_CONFIG_FILE": str(tmp_path / "absent.tfrc")}).user_cli_config is None
    present = tmp_path / "present.tfrc"
    present.write_text("")
    assert TerraformSettings.from_env({"TF_CLI_CONFIG_FILE": str(present)}).user_cli_config == present


def test_cli_config_takes_aws_from_the_mirror_only_and_shares_the_cache(tmp_path):
    settings = TerraformSettings(binary="t", requested="t", mirror=mirror(tmp_path),
                                 plugin_cache=tmp_path / "cache", user_cli_config=None)
    text = cli_config(settings)
    assert f'plugin_cache_dir = "{tmp_path / "cache"}"' in text
    assert f'path    = "{tmp_path / "mirror"}"' in text
    assert 'exclude = ["registry.terraform.io/hashicorp/aws"]' in text
    assert cli_config(TerraformSettings("t", "t", None, tmp_path, None)) is None


def test_an_opentofu_mirror_is_used_under_its_own_registry_host(tmp_path):
    root = mirror(tmp_path)
    (root / "registry.opentofu.org" / "hashicorp" / "aws").mkdir(parents=True)
    text = cli_config(TerraformSettings("tofu", "tofu", root, tmp_path / "cache", None))
    assert 'include = ["registry.opentofu.org/hashicorp/aws", "registry.terraform.io/hashicorp/aws"]' in text


def runner(tmp_path: Path, script: str = "echo fake", with_mirror: bool = True, user_config: Path | None = None) -> Terraform:
    settings = TerraformSettings(
        binary=str(fake_binary(tmp_path / "bin", "terraform", script)), requested="terraform",
        mirror=mirror(tmp_path) if with_mirror else None, plugin_cache=tmp_path / "cache", user_cli_config=user_config,
    )
    return Terraform(settings, home=tmp_path / "home")


def test_with_a_mirror_terraform_runs_with_the_runners_cli_config(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "absent"))
    monkeypatch.setenv("AWS_PROFILE", "production")
    env = runner(tmp_path).env()
    assert env["TF_CLI_CONFIG_FILE"] == str(tmp_path / "home" / "terraform.tfrc")
    assert "plugin_cache_dir" in Path(env["TF_CLI_CONFIG_FILE"]).read_text()
    assert "AWS_PROFILE" not in env  # a user's AWS settings never reach the emulated runs


def test_without_a_mirror_the_users_config_applies_and_the_cache_is_shared(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_PLUGIN_CACHE_DIR", "/elsewhere")  # settings already resolved the cache
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "absent"))
    env = runner(tmp_path, with_mirror=False).env()
    assert "TF_CLI_CONFIG_FILE" not in env
    assert env["TF_PLUGIN_CACHE_DIR"] == str(tmp_path / "cache")
    own = tmp_path / "own.tfrc"
    own.write_text("")
    assert runner(tmp_path / "b", with_mirror=False, user_config=own).env()["TF_CLI_CONFIG_FILE"] == str(own)


def test_go_gc_is_relaxed_for_terraform_unless_the_user_chose(tmp_path, monkeypatch):
    monkeypatch.delenv("GOGC", raising=False)
    assert runner(tmp_path).env()["GOGC"] == "400"
    monkeypatch.setenv("GOGC", "150")
    assert runner(tmp_path / "b").env()["GOGC"] == "150"


def test_a_provider_init_could_not_install_is_told_apart_from_a_configuration_error():
    from harness.terraform.fixtures import provider_unavailable

    headline = ("terraform init failed (exit 1) in /x: Error: Failed to query available provider packages "
                "Could not retrieve the list of available versions for provider hashicorp/aws:")
    # the outputs as Terraform 1.11 prints them, line breaks included
    offline = TerraformError(headline, "could not connect to registry.terraform.io: failed to request discovery\n"
                             'document: Get "https://registry.terraform.io/.well-known/terraform.json":\n'
                             "dial tcp: lookup registry.terraform.io on 10.255.255.53:53: no such host")
    no_such_version = TerraformError(headline, "no available releases match the given constraints 99.0.0")
    broken = TerraformError("terraform init failed (exit 1) in /x: Error: Unsupported argument", "An argument named ...")
    assert provider_unavailable(offline)
    assert not provider_unavailable(no_such_version)
    assert not provider_unavailable(broken)


def test_each_command_is_logged_when_asked(tmp_path, monkeypatch):
    log = tmp_path / "commands.jsonl"
    monkeypatch.setenv("HARNESS_TF_COMMAND_LOG", str(log))
    assert TerraformSettings.from_env().command_log == log
    monkeypatch.delenv("HARNESS_TF_COMMAND_LOG")
    assert TerraformSettings.from_env().command_log is None

    import dataclasses

    fake = runner(tmp_path)
    terraform = Terraform(dataclasses.replace(fake.settings, command_log=log), home=tmp_path / "home2")
    config = tmp_path / "app" / "terraform"
    config.mkdir(parents=True)
    (config / "main.tf").write_text("")
    workspace = terraform.workspace(config, "http://127.0.0.1:1", root=tmp_path / "app")
    workspace.init()
    workspace.apply()
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["command"], r["config"]) for r in records] == [("init", "terraform"), ("apply", "terraform")]
    assert all(r["wall"] >= 0 and "test_each_command_is_logged_when_asked" in r["during"] for r in records)


def config_tree(tmp_path: Path) -> Path:
    root = tmp_path / "approaches"
    (root / "base").mkdir(parents=True)
    (root / "base" / "main.tf").write_text('variable "name" {}\n')
    (root / "app" / "terraform").mkdir(parents=True)
    (root / "app" / "terraform" / "main.tf").write_text('module "base" {\n  source = "../../base"\n  name = "x"\n}\n')
    (root / "app" / "terraform" / "terraform.tfstate").write_text("{}")  # someone's local state: not copied
    return root


def test_a_workspace_is_a_copy_pointed_at_the_endpoint(tmp_path):
    root = config_tree(tmp_path)
    ws = runner(tmp_path).workspace(root / "app" / "terraform", "http://127.0.0.1:5000", root=root, name="w")
    assert ws.directory == tmp_path / "home" / "w" / "app" / "terraform"
    assert (ws.directory.parent.parent / "base" / "main.tf").exists()  # relative module source resolves
    assert not (ws.directory / "terraform.tfstate").exists()
    override = json.loads((ws.directory / OVERRIDE_FILE).read_text())["provider"]["aws"]
    assert override["endpoints"] == {service: "http://127.0.0.1:5000" for service in SERVICES}
    assert override["max_retries"] == MAX_RETRIES
    assert not (root / "app" / "terraform" / OVERRIDE_FILE).exists()  # the source is never written to


def test_a_config_outside_its_root_is_refused(tmp_path):
    root = config_tree(tmp_path)
    with pytest.raises(TerraformError, match="is not inside"):
        runner(tmp_path).workspace(root / "app" / "terraform", "http://x", root=root / "base")
    with pytest.raises(TerraformError, match="no Terraform configuration"):
        runner(tmp_path / "b").workspace(tmp_path / "missing", "http://x")


def test_a_failing_command_raises_one_line_naming_terraforms_error(tmp_path):
    script = textwrap.dedent("""\
        echo '╷' >&2
        echo '│ Error: creating ECS Service (app): ClientException: boom' >&2
        echo '│ ' >&2
        echo '│   with aws_ecs_service.app,' >&2
        exit 1""")
    ws = runner(tmp_path, script=script).workspace(config_tree(tmp_path) / "base", "http://x")
    with pytest.raises(TerraformError) as err:
        ws.apply()
    message = str(err.value)
    assert "\n" not in message
    assert "terraform apply failed (exit 1)" in message
    assert "Error: creating ECS Service (app): ClientException: boom" in message
    assert ws.timings.runs[0][0] == "apply"


def run_pytest(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    test = tmp_path / "test_needs_terraform.py"
    test.write_text("import pytest\n\n@pytest.mark.terraform\ndef test_it(terraform):\n    pass\n")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "PYTEST_"))}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "harness.plugin", "-q", "-rs", "-p", "no:cacheprovider", str(test)],
        cwd=tmp_path, env=full_env, capture_output=True, text=True, timeout=120,
    )


def test_terraform_tests_are_skipped_with_a_how_to_when_terraform_is_missing(tmp_path):
    result = run_pytest(tmp_path, {"HARNESS_TERRAFORM": "no-such-terraform"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "no-such-terraform not found" in result.stdout and "HARNESS_TERRAFORM" in result.stdout


def test_terraform_tests_fail_when_ci_requires_terraform(tmp_path):
    result = run_pytest(tmp_path, {"HARNESS_TERRAFORM": "no-such-terraform", "HARNESS_REQUIRE_TERRAFORM": "1"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "HARNESS_REQUIRE_TERRAFORM=1 but no Terraform binary" in result.stdout


# -- where the AWS provider comes from when no mirror is named: where Terraform itself looks --

def provider_in(root: Path) -> Path:
    """``root`` laid out as an unpacked filesystem mirror holding hashicorp/aws for this machine."""
    from harness.terraform.settings import provider_platform

    platform_dir = root / "registry.terraform.io" / "hashicorp" / "aws" / "5.100.0" / provider_platform()
    platform_dir.mkdir(parents=True)
    (platform_dir / "terraform-provider-aws_v5.100.0_x5").write_text("")
    return root


def discovered(tmp_path: Path, **more: str) -> TerraformSettings:
    env = {"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "XDG_DATA_DIRS": str(tmp_path / "share"), **more}
    return TerraformSettings.from_env(env, discover=True)


def test_an_implied_local_mirror_is_found_as_terraform_would(tmp_path):
    root = provider_in(tmp_path / "home" / ".terraform.d" / "plugins")
    settings = discovered(tmp_path)
    assert settings.mirror == root
    assert settings.provider_source == f"{root} (an implied local mirror)"
    assert f'path    = "{root}"' in cli_config(settings)


def test_the_cli_configurations_own_mirror_is_terraforms_to_use(tmp_path):
    provider_in(tmp_path / "home" / ".terraform.d" / "plugins")
    own = provider_in(tmp_path / "own-mirror")
    config = tmp_path / "my.tfrc"
    config.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{own}"\n  }}\n}}\n')
    settings = discovered(tmp_path, TF_CLI_CONFIG_FILE=str(config))
    assert settings.mirror is None and settings.provider_source == f"the provider_installation of {config}"
    assert Terraform(settings, home=tmp_path / "run").env()["TF_CLI_CONFIG_FILE"] == str(config)


def test_a_cache_that_links_into_a_mirror_gives_the_mirror_never_itself(tmp_path):
    real = provider_in(tmp_path / "opt-mirror")
    cache = tmp_path / "cache" / "ecs-template-deploy" / "terraform-plugins"
    entry = cache / "registry.terraform.io" / "hashicorp" / "aws" / "5.100.0"
    entry.mkdir(parents=True)
    from harness.terraform.settings import provider_platform

    (entry / provider_platform()).symlink_to(next(real.glob("*/hashicorp/aws/5.100.0/*")))
    settings = discovered(tmp_path)
    assert settings.mirror == real and "linked from the harness's plugin cache" in settings.provider_source
    assert settings.plugin_cache == cache


def test_a_cache_holding_the_provider_itself_is_a_mirror_beside_another_cache(tmp_path):
    cache = provider_in(tmp_path / "cache" / "ecs-template-deploy" / "terraform-plugins")
    settings = discovered(tmp_path)
    assert settings.mirror == cache and settings.plugin_cache != cache  # Terraform never installs onto its source


def test_nothing_found_leaves_the_registry_and_says_where_it_looked(tmp_path):
    settings = discovered(tmp_path)
    assert settings.mirror is None
    said = settings.provider_source
    assert said.startswith("the registry (no local provider: looked in ")
    for place in (tmp_path / "home" / ".terraform.d" / "plugins", tmp_path / "share" / "terraform" / "plugins",
                  tmp_path / "cache" / "ecs-template-deploy" / "terraform-plugins"):
        assert str(place) in said


def test_a_named_mirror_is_never_second_guessed(tmp_path):
    provider_in(tmp_path / "home" / ".terraform.d" / "plugins")
    named = mirror(tmp_path)
    settings = discovered(tmp_path, HARNESS_TF_PROVIDER_MIRROR=str(named))
    assert settings.mirror == named and settings.provider_source == f"HARNESS_TF_PROVIDER_MIRROR={named}"


def test_your_own_provider_installation_is_left_to_terraform_as_it_would_be(tmp_path):
    provider_in(tmp_path / "home" / ".terraform.d" / "plugins")  # Terraform ignores implied mirrors then
    rc = tmp_path / "home" / ".terraformrc"
    rc.write_text('provider_installation {\n  network_mirror {\n    url = "https://mirror.example/"\n  }\n}\n')
    settings = discovered(tmp_path)
    assert settings.mirror is None and settings.provider_source == f"the provider_installation of {rc}"
    assert cli_config(settings) is None  # the runner writes none: Terraform reads yours
