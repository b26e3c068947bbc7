"""The ceiling's baseline reads the item the region serves: same attributes, same (de)serialization work."""

import json

import pytest

from bench.local_cloud import inprocess_moto


def test_default_baseline_item_is_shaped_as_the_handler_writes_it():
    item = inprocess_moto.handler_shaped_item("ceiling-key", "x" * 100)
    assert set(item) == {"key", "value", "region", "writtenAt"}
    assert item["key"] == {"S": "ceiling-key"} and item["value"] == {"S": "x" * 100}


def test_baseline_reads_the_item_it_is_given(tmp_path, capsys):
    served = {"key": {"S": "served"}, "value": {"S": "v"}, "region": {"S": "us-west-2"}, "writtenAt": {"N": "1"}}
    item_file = tmp_path / "item.json"
    item_file.write_text(json.dumps(served))
    assert inprocess_moto.main(["--seconds", "0.05", "--item", str(item_file)]) == 0
    figures = json.loads(capsys.readouterr().out.strip())
    for operation in ("get_item", "put_item"):
        assert figures[operation]["ops"] >= 50 and figures[operation]["ops_per_s"] > 0
        assert figures[operation]["cpu_us"] > 0


def test_baseline_refuses_an_item_without_the_table_key(tmp_path, capsys):
    item_file = tmp_path / "item.json"
    item_file.write_text(json.dumps({"value": {"S": "no key"}}))
    with pytest.raises(SystemExit) as exited:
        inprocess_moto.main(["--seconds", "0.05", "--item", str(item_file)])
    assert exited.value.code == 2
    assert "no string attribute 'key'" in capsys.readouterr().err
