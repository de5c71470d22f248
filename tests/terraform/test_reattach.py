"""The long-lived provider (harness.terraform.reattach) with fake binaries: how
it is found, started, named to Terraform, and what happens when it cannot be.
No Terraform needed; the real thing is in test_terraform_runs.py."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from harness.terraform import Terraform, TerraformSettings
from harness.terraform.reattach import ProviderServer, ReattachError, installed_aws_provider

from test_settings import fake_binary, mirror

# What the provider prints in debug mode, as a shell `echo "..."` argument: $$ is the fake's own pid.
LINE = ("TF_REATTACH_PROVIDERS='" + json.dumps({"registry.terraform.io/hashicorp/aws": {
    "Protocol": "grpc", "ProtocolVersion": 5, "Pid": 0, "Test": True, "Addr": {"Network": "unix", "String": "/tmp/p1"}}},
    separators=(",", ":")).replace('"Pid":0', '"Pid":$$').replace('"', '\\"') + "'")


def fake_provider(directory: Path, script: str) -> Path:
    return fake_binary(directory, "terraform-provider-aws_v5.100.0_x5", script)


def installed(workspace: Path, binary: Path, host: str = "registry.terraform.io") -> None:
    """What `terraform init` leaves: the platform directory a link into the plugin cache."""
    platform = workspace / ".terraform" / "providers" / host / "hashicorp" / "aws" / "5.100.0" / "linux_amd64"
    platform.parent.mkdir(parents=True)
    platform.symlink_to(binary.parent, target_is_directory=True)


def test_the_provider_init_installed_is_found_through_the_cache_link(tmp_path):
    binary = fake_provider(tmp_path / "cache", "true")
    assert installed_aws_provider(tmp_path / "ws") is None
    installed(tmp_path / "ws", binary, host="registry.opentofu.org")
    assert installed_aws_provider(tmp_path / "ws") == ("registry.opentofu.org/hashicorp/aws", binary.resolve())


def test_the_reattach_value_names_the_running_process_under_the_address_terraform_installed(tmp_path):
    binary = fake_provider(tmp_path / "p", f"echo 'Provider started.'\necho \"{LINE}\"\nexec sleep 600")
    server = ProviderServer(binary, "registry.opentofu.org/hashicorp/aws", {"PATH": "/usr/bin:/bin"}, tmp_path / "p.log")
    try:
        value = json.loads(server.reattach_value())
        assert list(value) == ["registry.opentofu.org/hashicorp/aws"]
        assert value["registry.opentofu.org/hashicorp/aws"]["Pid"] == server.pid
        assert server.reattach_value() == json.dumps(value)  # the same process, not a second start
        assert server.starts == 1
        assert server.env["TF_LOG_PROVIDER_AWS"] == "WARN"  # debug mode logs at trace level otherwise
    finally:
        server.close()
    assert server.pid is None


def test_a_provider_that_died_is_started_again(tmp_path):
    binary = fake_provider(tmp_path / "p", f"echo \"{LINE}\"\nexec sleep 600")
    server = ProviderServer(binary, "registry.terraform.io/hashicorp/aws", {"PATH": "/usr/bin:/bin"}, tmp_path / "p.log")
    try:
        server.reattach_value()
        first = server.pid
        server._process.kill()  # noqa: SLF001 - what an OOM kill does
        server._process.wait()  # noqa: SLF001
        assert json.loads(server.reattach_value())["registry.terraform.io/hashicorp/aws"]["Pid"] != first
        assert server.starts == 2
    finally:
        server.close()


def test_a_provider_without_a_debug_mode_is_an_error_that_names_its_log(tmp_path):
    binary = fake_provider(tmp_path / "p", "echo 'unknown flag: -debug' >&2\nexit 1")
    server = ProviderServer(binary, "registry.terraform.io/hashicorp/aws", {}, tmp_path / "p.log", start_timeout=5)
    with pytest.raises(ReattachError, match=r"printed no TF_REATTACH_PROVIDERS line and exited 1 \(see .*p\.log\)"):
        server.reattach_value()
    assert "unknown flag" in (tmp_path / "p.log").read_text()


def settings(tmp_path: Path, binary: str = "terraform", reattach: str = "") -> TerraformSettings:
    """A fake Terraform that logs each command with the provider it was told to attach to."""
    script = textwrap.dedent(f"""\
        case "$1" in init) mkdir -p .terraform;; esac
        echo "$1 ${{TF_REATTACH_PROVIDERS:-none}}" >> {tmp_path / "commands.log"}
    """)
    return TerraformSettings(binary=str(fake_binary(tmp_path / "bin", binary, script)), requested=binary,
                             mirror=mirror(tmp_path), plugin_cache=tmp_path / "cache", user_cli_config=None,
                             reattach=reattach)


def commands(tmp_path: Path) -> list[tuple[str, str]]:
    return [tuple(line.split(" ", 1)) for line in (tmp_path / "commands.log").read_text().splitlines()]


def test_reattach_is_on_by_default_off_when_asked_and_not_tried_with_tofu(tmp_path, monkeypatch):
    assert settings(tmp_path).reattach_problem() is None
    assert settings(tmp_path / "b", reattach="0").reattach_problem() == "HARNESS_TF_REATTACH=0"
    assert "OpenTofu" in settings(tmp_path / "c", binary="tofu").reattach_problem()
    assert settings(tmp_path / "d", binary="tofu", reattach="1").reattach_problem() is None
    monkeypatch.setenv("HARNESS_TF_REATTACH", "0")
    assert TerraformSettings.from_env().reattach_problem() == "HARNESS_TF_REATTACH=0"


def workspace_with_provider(tmp_path: Path, runner: Terraform, provider_script: str):
    config = tmp_path / "config"
    config.mkdir()
    (config / "main.tf").write_text("")
    ws = runner.workspace(config, "http://127.0.0.1:1")
    ws.init()
    installed(ws.directory, fake_provider(tmp_path / "cache-p", provider_script))
    return ws


def test_commands_after_init_attach_to_the_one_provider_and_init_does_not(tmp_path):
    runner = Terraform(settings(tmp_path), home=tmp_path / "home")
    ws = workspace_with_provider(tmp_path, runner, f"echo \"{LINE}\"\nexec sleep 600")
    try:
        ws.plan()
        ws.apply()
        assert runner.provider_rss_bytes() > 0
        (init, none), (plan, first), (apply, second) = commands(tmp_path)
        assert (init, none, plan, apply) == ("init", "none", "plan", "apply")
        pid = json.loads(first)["registry.terraform.io/hashicorp/aws"]["Pid"]
        assert first == second and pid > 0  # both commands, one process
        assert "one long-lived provider process" in runner.provider_mode()
    finally:
        runner.close()
    assert runner.provider_rss_bytes() == 0


def test_a_provider_that_cannot_be_reattached_falls_back_to_plain_commands_and_says_why(tmp_path):
    runner = Terraform(settings(tmp_path), home=tmp_path / "home")
    ws = workspace_with_provider(tmp_path, runner, "exit 1")
    with pytest.warns(UserWarning, match="reattach failed, so off"):
        ws.plan()
    ws.apply()  # not tried again
    assert commands(tmp_path) == [("init", "none"), ("plan", "none"), ("apply", "none")]  # ran as plain Terraform
    assert runner.provider_mode().startswith("a provider start per command (reattach failed, so off")


def test_a_real_aws_workspace_keeps_the_callers_credentials_and_starts_its_own_provider(tmp_path, monkeypatch):
    """Real AWS (no endpoint): the provider finds credentials as anywhere (AWS_PROFILE
    here, or an EC2 instance profile), so the commands keep the AWS_* variables an emulator's workspace drops, and
    none attaches to the long-lived provider, which was started without them."""
    script = textwrap.dedent(f"""\
        case "$1" in init) mkdir -p .terraform;; esac
        echo "$1 ${{AWS_PROFILE:-none}}/${{AWS_EC2_METADATA_DISABLED:-unset}} ${{TF_REATTACH_PROVIDERS:-none}}" >> {tmp_path / "commands.log"}
    """)
    monkeypatch.setenv("AWS_PROFILE", "harness-sandbox")
    runner = Terraform(TerraformSettings(binary=str(fake_binary(tmp_path / "bin", "terraform", script)),
                                         requested="terraform", mirror=mirror(tmp_path), plugin_cache=tmp_path / "cache",
                                         user_cli_config=None), home=tmp_path / "home")
    config = tmp_path / "config"
    config.mkdir()
    (config / "main.tf").write_text("")
    try:
        for name, endpoint in (("real", None), ("emulated", "http://127.0.0.1:1")):
            ws = runner.workspace(config, endpoint, name=name, tags={"harness:run-id": "hr0123abcd"})
            ws.init()
            installed(ws.directory, fake_provider(tmp_path / f"cache-{name}", f"echo \"{LINE}\"\nexec sleep 600"))
            ws.apply()
            override = json.loads((ws.directory / "zz_harness_override.tf.json").read_text())["provider"]["aws"]
            if endpoint is None:  # nothing but the run's tags: AWS's own endpoints, the caller's credentials
                assert override == {"default_tags": [{"tags": {"harness:run-id": "hr0123abcd"}}]}
            else:
                assert override["endpoints"]["ecs"] == endpoint and override["access_key"] == "test"
    finally:
        runner.close()
    logged = [line.split(" ", 2) for line in (tmp_path / "commands.log").read_text().splitlines()]
    # real AWS: the profile, and an instance profile's credentials allowed too; an emulator: neither
    assert [(command, profile) for command, profile, _ in logged] == [
        ("init", "harness-sandbox/unset"), ("apply", "harness-sandbox/unset"), ("init", "none/true"), ("apply", "none/true")]
    assert logged[1][2] == "none" and logged[3][2] != "none"  # only the emulator's apply attached
