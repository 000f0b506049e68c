"""Loading a transformers encoder from a local directory or a pinned hub revision, with clear errors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emobench.errors import EmobenchError
from emobench.upstreams.base import hash_files

# Weights that encoders are allowed to lack: used only for SpecAugment-style masking in training.
_OPTIONAL_KEYS = ("masked_spec_embed",)


@dataclass
class LoadedModel:
    model: Any  # torch.nn.Module in eval mode (Whisper: its encoder only)
    source: str  # shown in errors
    identity: dict[str, Any]  # hub id + resolved revision, or the local files' sha256
    do_normalize: bool | None  # from preprocessor_config.json when there is one


def _read_do_normalize(path: Path | None) -> bool | None:
    if path is None or not path.is_file():
        return None
    try:
        value = json.loads(path.read_text()).get("do_normalize")
    except (OSError, ValueError):
        return None
    return None if value is None else bool(value)


def load_hf_model(model: str, *, revision: str | None, local_files_only: bool = False) -> LoadedModel:
    import transformers

    transformers.utils.logging.disable_progress_bar()
    path = Path(str(model)).expanduser()
    if path.exists() or str(model).startswith((".", "/", "~")):
        source, kwargs, identity, pre = _local(path)
    else:
        rev = revision or "main"
        source = f"hub model {model}@{rev}"
        kwargs = {"revision": rev, "local_files_only": local_files_only}
        identity = {"model": str(model), "revision": rev}
        pre = None
    verbosity = transformers.utils.logging.get_verbosity()
    transformers.utils.logging.set_verbosity_error()  # unexpected keys of pre-training heads are normal
    try:
        net, info = transformers.AutoModel.from_pretrained(
            str(path) if "weights_sha256" in identity else str(model), output_loading_info=True, **kwargs
        )
    except (OSError, ValueError) as exc:
        if "weights_sha256" in identity:
            raise EmobenchError(f"cannot load the model directory {path}: {exc}; re-save it with save_pretrained") from exc
        raise EmobenchError(
            f"cannot load {source} ({type(exc).__name__}: {str(exc).splitlines()[0]}); without network, download it "
            f"elsewhere (`hf download {model} --revision {kwargs['revision']} --local-dir DIR`) and pass model=DIR"
        ) from exc
    except RuntimeError as exc:  # size mismatches between config and weights
        raise EmobenchError(f"{source}: weights do not match its config.json ({str(exc).splitlines()[0]})") from exc
    finally:
        transformers.utils.logging.set_verbosity(verbosity)
    if "weights_sha256" not in identity:
        commit = getattr(net.config, "_commit_hash", None)
        if commit:
            identity["revision"] = commit  # a branch name is not a pin; the resolved commit is
        pre = _hub_preprocessor(str(model), kwargs)
    is_whisper = net.config.model_type == "whisper"
    missing = [k for k in info.get("missing_keys", ()) if not k.endswith(_OPTIONAL_KEYS)]
    if is_whisper:
        missing = [k for k in missing if not k.startswith("decoder.")]
    mismatched = list(info.get("mismatched_keys", ()))
    if missing or mismatched:
        bad = (missing + [str(m) for m in mismatched])[:3]
        raise EmobenchError(
            f"{source}: {len(missing)} weight(s) missing and {len(mismatched)} with the wrong shape for a "
            f"{net.config.model_type} model (e.g. {', '.join(bad)}); the directory does not hold a complete "
            "checkpoint for its config.json"
        )
    if is_whisper:
        net = net.get_encoder()
    return LoadedModel(net.eval(), source, identity, _read_do_normalize(pre))


def _local(path: Path) -> tuple[str, dict, dict, Path]:
    source = f"model directory {path}"
    if not path.is_dir():
        raise EmobenchError(f"{source} does not exist or is not a folder; pass a folder made by save_pretrained")
    config = path / "config.json"
    if not config.is_file():
        raise EmobenchError(f"{source} has no config.json; pass the folder that save_pretrained wrote")
    weights = sorted(path.glob("*.safetensors")) or sorted(path.glob("pytorch_model*.bin"))
    if not weights:
        raise EmobenchError(f"{source} has no model.safetensors or pytorch_model.bin; the download is incomplete")
    identity = {"weights_sha256": hash_files([*weights, config])}
    return source, {"local_files_only": True}, identity, path / "preprocessor_config.json"


def _hub_preprocessor(model: str, kwargs: dict) -> Path | None:
    try:
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(model, "preprocessor_config.json", revision=kwargs["revision"],
                                    local_files_only=kwargs["local_files_only"]))
    except Exception:
        return None
