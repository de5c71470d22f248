"""A release manifest is checked in itself before any AWS call: one line per mistake."""
from __future__ import annotations

import pytest

from ecs_template_deploy.errors import BadInputError
from ecs_template_deploy.manifest import load, parse
from tests.deploy.test_bad_input_table import PREFIX, says_what_to_do

THREE = """
cluster = "prod"
bake = 60
alarms = ["prod-5xx"]

[[service]]
name = "worker"
template = "worker-template"
tag = "${BUILD_TAG}"

[[service]]
name = "scheduler"
template = "scheduler-template"
tag = "${BUILD_TAG}"
bake = 0

[[service]]
name = "web"
template = "web-template"
images = { app = "repo/web:1.4.2" }
after = ["worker", "scheduler"]
"""


def test_waves_come_from_after_and_every_service_inherits_the_top_level_settings():
    manifest = parse(THREE, environ={"BUILD_TAG": "1.4.2"})
    assert [[e.name for e in wave] for wave in manifest.waves] == [["worker", "scheduler"], ["web"]]
    worker, scheduler, web = manifest.entries
    assert worker.images.tag == "1.4.2" and worker.cluster == "prod" and worker.watch.alarms == ("prod-5xx",)
    assert worker.watch.bake == 60 and scheduler.watch.bake == 0
    assert dict(web.images.images) == {"app": "repo/web:1.4.2"}


def test_the_default_id_is_a_digest_of_what_the_manifest_says_so_the_same_release_has_the_same_id():
    one = parse(THREE, environ={"BUILD_TAG": "1.4.2"})
    assert one.id == parse(THREE, environ={"BUILD_TAG": "1.4.2"}).id and one.id.startswith("r-")
    assert parse(THREE, environ={"BUILD_TAG": "1.4.3"}).id != one.id
    assert parse(THREE, environ={"BUILD_TAG": "1"}, release_id="build-77").id == "build-77"


@pytest.mark.parametrize("text, said", [
    (THREE.replace('after = ["worker", "scheduler"]', 'after = ["worker", "cron"]'),
     "after names 'cron', which is not a service of this manifest"),
    (THREE + '\n[[service]]\nname = "web"\ntemplate = "other-template"\ntag = "x"\n', "service web appears twice"),
    (THREE.replace('tag = "${BUILD_TAG}"\nbake = 0', 'tag = "x"\nafter = ["web"]'),
     "the services wait for each other in a cycle (scheduler -> web -> scheduler)"),
    (THREE.replace('template = "worker-template"\n', ''), "service worker has no template"),
    (THREE.replace('images = { app = "repo/web:1.4.2" }', ''), "service web: no image chosen"),
    (THREE.replace("bake = 60", "bake = -1"), "bake is '-1': give a number of seconds, 0 or more"),
    (THREE.replace("bake = 60", "bakes = 60"), "unknown key 'bakes' at its top level"),
    (THREE.replace('name = "worker"', 'name = "worker"\nimage = "x"'), "service worker: unknown key 'image'"),
    (THREE.replace("${BUILD_TAG}", "${NOPE}", 1), "${NOPE} is not set: export it in the pipeline"),
    (THREE.replace("bake = 60", 'id = "no spaces"\nbake = 60'), "release id 'no spaces' cannot be recorded"),
    ("[[service]]\nname = 'x'\ntemplate = 't'\ntag = 'v'\n", "service x has no cluster"),
    ("cluster = 'prod'\n", "names no services"),
    ("cluster = 'prod'\n[[service]\n", "is not valid TOML"),
    (THREE.replace("bake = 0", "on_pause = 'later'"), "on_pause 'later' is not an answer to a pause: use one of wait, continue, rollback, fail"),
])
def test_a_bad_manifest_is_refused_in_one_line_naming_the_mistake(text, said):
    with pytest.raises(BadInputError) as refused:
        parse(text, environ={"BUILD_TAG": "1"})
    assert said in str(refused.value) and "\n" not in str(refused.value)
    assert says_what_to_do(PREFIX + str(refused.value)), str(refused.value)


def test_yaml_says_the_same_as_toml(tmp_path):
    pytest.importorskip("yaml")
    path = tmp_path / "release.yaml"
    path.write_text("cluster: prod\nservice:\n  - name: worker\n    template: worker-template\n    tag: v2\n"
                    "  - name: web\n    template: web-template\n    tag: v2\n    after: [worker]\n")
    manifest = load(str(path))
    assert [[e.name for e in wave] for wave in manifest.waves] == [["worker"], ["web"]]


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(BadInputError, match="not found: pass the path of the release manifest"):
        load(str(tmp_path / "nope.toml"))
