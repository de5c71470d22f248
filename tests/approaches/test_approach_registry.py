"""The table of approaches and the registry: names in the article's order,
unknown names refused with the list of known ones, approach modules imported
on demand, each module registering the row it implements."""
from __future__ import annotations

import pytest

from harness import approaches
from harness.approaches import Approach, ApproachError, Claims, Facts, InfraChange, register


def _fake(name: str) -> type[Approach]:
    class Fake(Approach):
        facts = Facts()
        claims = Claims()
        terraform_dir = "terraform/base"

        def deploy(self, version: str) -> None:
            self.context.append(("deploy", version))

        def rollback(self) -> None:
            self.context.append(("rollback",))

        def apply_infra_changes(self, changes) -> None:
            self.context.append(("infra", *(change.setting for change in changes)))

    Fake.name = name
    return Fake


@pytest.fixture
def fake_persistent_tag():
    restore = approaches._unregister("persistent-tag")
    cls = register(_fake("persistent-tag"))
    yield cls
    approaches._unregister("persistent-tag")
    restore()


def test_names_follow_the_article() -> None:
    assert [row.name for row in approaches.TABLE] == [
        "persistent-tag", "ignore-changes", "app-repo", "terraform-cd-central", "terraform-cd-app", "template",
    ]
    assert [row.section for row in approaches.TABLE] == ["1", "2", "3", "4a", "4b", "5"]
    assert approaches.BY_NAME["template"].label == "5 template task definition"
    assert [row.name for row in approaches.TABLE if not row.stand_in] == ["terraform-cd-central", "terraform-cd-app"]
    # approach 4 (CD is `terraform apply`) is handed out first: its groups take longest
    assert sorted(approaches.TABLE, key=lambda row: row.cost)[:2] == [approaches.BY_NAME["terraform-cd-central"],
                                                                      approaches.BY_NAME["terraform-cd-app"]]


@pytest.mark.parametrize("row", approaches.TABLE, ids=str)
def test_each_row_is_registered_by_its_module_with_its_row(row) -> None:
    cls = row.cls()
    assert cls.name == row.name and cls.entry is row and cls.__module__ == row.module


def test_unknown_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ApproachError, match="unknown approach 'blue-green'; known: persistent-tag, ignore-changes, app-repo"):
        approaches.get("blue-green")


def test_registered_approach_is_found_and_runs_its_procedure(fake_persistent_tag) -> None:
    cls = approaches.get("persistent-tag")
    assert cls is fake_persistent_tag
    log: list[tuple] = []
    approach = cls(log)
    approach.deploy("v2")
    approach.rollback()
    approach.apply_infra_change(InfraChange("memory", 1024))
    approach.apply_infra_changes([InfraChange("memory", 512), InfraChange("environment", {"A": "b"})])
    assert log == [("deploy", "v2"), ("rollback",), ("infra", "memory"), ("infra", "memory", "environment")]
    assert cls.terraform_config().parts[-3:] == ("approaches", "terraform", "base")
    assert cls.entry is approaches.BY_NAME["persistent-tag"]


def test_register_refuses_unknown_names_missing_attributes_and_duplicates(fake_persistent_tag) -> None:
    with pytest.raises(ApproachError, match="name it one of persistent-tag"):
        register(_fake("canary"))
    incomplete = _fake("app-repo")
    del incomplete.facts
    with pytest.raises(ApproachError, match="lacks the class attribute 'facts'"):
        register(incomplete)
    with pytest.raises(ApproachError, match="registered twice"):
        register(_fake("persistent-tag"))


@pytest.mark.parametrize("name", [row.name for row in approaches.TABLE])
def test_an_approach_whose_module_registers_nothing_says_so(name: str) -> None:
    approaches.get(name)  # imported once: importing it again registers nothing
    restore = approaches._unregister(name)
    try:
        with pytest.raises(ApproachError, match=f"does not register approach '{name}': decorate its class with @register"):
            approaches.get(name)
    finally:
        restore()
    assert approaches.get(name).name == name


def test_abstract_procedure_must_be_implemented() -> None:
    class Half(Approach):
        def deploy(self, version: str) -> None: ...

    with pytest.raises(TypeError, match="abstract"):
        Half(None)


def test_infra_change_names_the_settings_it_knows() -> None:
    with pytest.raises(ApproachError, match="unknown infrastructure change 'disk'; use one of cpu, memory, environment, secrets"):
        InfraChange("disk", 20)
