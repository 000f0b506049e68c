"""Registry lookups and their errors: built-ins, catalogue specs, entry points, duplicates, laziness."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from emobench.errors import RegistryError
from emobench.registries import ALL, corpora, quantizers, tasks, upstreams
from emobench.registry import Registry


def test_every_registry_lists_entries_with_descriptions():
    for kind, registry in ALL.items():
        names = registry.names()
        assert names, kind
        for name in names:
            entry = registry.get(name)
            assert entry.description.strip(), f"{kind}/{name} has no description"
            assert entry.source


def test_catalogue_entries_resolve_to_implementations():
    for registry in (upstreams, quantizers, tasks):
        for name in registry.names():
            entry = registry.get(name)
            if entry.source.startswith("catalogue"):
                assert ":" in entry.impl, (name, entry.impl)


def test_unknown_name_suggests_close_ones():
    with pytest.raises(RegistryError, match=r"unknown corpus 'ravdes'.*ravdess"):
        corpora.get("ravdes")
    with pytest.raises(RegistryError, match="emobench list tasks"):
        tasks.get("no-such-task-at-all")


def test_duplicate_names_name_both_sources():
    with pytest.raises(RegistryError, match=r"two upstreams claim the name 'fbank': catalogue spec .*fbank.yaml "
                                             r"and registered in code"):
        upstreams.register("fbank", "json:dumps", "a second fbank", license="MIT")
    assert upstreams.get("fbank").source.startswith("catalogue spec")  # the failed registration left nothing


def test_broken_plugin_fails_loudly_naming_its_source():
    reg = Registry("things")
    reg.register("broken", "emobench_no_such_module:Thing", "broken")
    with pytest.raises(RegistryError, match="things 'broken' from registered in code: cannot import 'emobench_no_such_module'"):
        reg.load("broken")
    reg2 = Registry("things")
    reg2.register("noattr", "json:NoSuchAttr", "x")
    with pytest.raises(RegistryError, match="has no attribute 'NoSuchAttr'"):
        reg2.create("noattr")


def test_create_merges_spec_params_with_overrides():
    reg = Registry("things")

    def make(*, a: int = 0, b: int = 0) -> dict:
        return {"a": a, "b": b}

    reg.register("dict", make, "a dict", params={"a": 1, "b": 2})
    assert reg.create("dict", b=3) == {"a": 1, "b": 3}
    with pytest.raises(RegistryError, match=r"has no parameter 'c'; valid: a, b"):
        reg.create("dict", c=3)
    with pytest.raises(RegistryError, match=r"b=2.5: Input should be a valid integer"):
        reg.create("dict", b=2.5)


def test_bad_catalogue_spec_is_reported(tmp_path, monkeypatch):
    from emobench import catalogue

    for section in catalogue.SECTIONS:
        (tmp_path / section).mkdir()
    (tmp_path / "quantizers" / "oops.yaml").write_text("name: other\nimpl: a.b:C\ndescription: x\n")
    monkeypatch.setenv("EMOBENCH_CATALOGUE", str(tmp_path))
    catalogue.catalogue_root.cache_clear()
    try:
        reg = Registry("quantizers")
        with pytest.raises(RegistryError, match="oops.yaml names itself 'other'"):
            reg.names()
        (tmp_path / "quantizers" / "oops.yaml").write_text("impl: rvq\n")
        reg = Registry("quantizers")
        with pytest.raises(RegistryError, match="oops.yaml: field description: Field required"):
            reg.names()
    finally:
        catalogue.catalogue_root.cache_clear()


def test_entry_point_duplicate_is_reported(tmp_path):
    """A distribution on sys.path declaring an entry point that clashes with a built-in name."""
    dist = tmp_path / "clash_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: clash-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[emobench.corpora]\nravdess = json:dumps\n")
    code = textwrap.dedent(
        f"""
        import sys; sys.path.insert(0, {str(tmp_path)!r})
        from emobench.registries import corpora
        from emobench.errors import RegistryError
        try:
            corpora.names()
        except RegistryError as e:
            print(e)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "two corpora claim the name 'ravdess'" in out
    assert "package clash-plugin" in out and "catalogue spec" in out


def test_help_and_list_import_no_torch():
    code = textwrap.dedent(
        """
        import sys
        from typer.testing import CliRunner
        from emobench.cli.main import app
        runner = CliRunner()
        for args in (["--help"], ["list"], ["list", "quantizers"], ["run", "--help"]):
            result = runner.invoke(app, args)
            assert result.exit_code == 0, (args, result.output)
        heavy = [m for m in ("torch", "transformers", "sklearn", "scipy") if m in sys.modules]
        print("HEAVY", heavy)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
