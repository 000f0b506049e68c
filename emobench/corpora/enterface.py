"""eNTERFACE'05 audio-visual emotion database (Martin et al. 2006), audio track.

Layout: ``subject 1/anger/sentence 1/s1_an_1.avi``. Labels and speakers come from the folder names, not the
file names (the release has misnamed files: subject 11's are called s12_..., some s_3_..., one s16_su_3avi).
A missing ``sentence K`` folder is accepted (the sentence is then taken from the file name). libsndfile cannot read AVI: extract the audio next to each clip with the same stem
(``ffmpeg -i s1_an_1.avi -vn -ac 1 s1_an_1.wav``); the loader takes ``.wav``/``.flac`` files and reports
clips that only exist as ``.avi``.
"""

from __future__ import annotations

import re
from pathlib import Path

from emobench.corpora.native import CorpusBuilder, NativeLoader, walk_files

SUBJECT = re.compile(r"^subject\s*(\d+)$", re.IGNORECASE)
SENTENCE = re.compile(r"^sentence\s*(\d+)$", re.IGNORECASE)


class ENTERFACE(NativeLoader):
    name = "enterface"
    native_labels = {"anger": "angry", "disgust": "disgust", "fear": "fearful", "happiness": "happy",
                     "sadness": "sad", "surprise": "surprised"}
    layout = "'subject N/<emotion>/sentence K/*.wav' (audio extracted from the release's .avi files)"

    def _read(self, root: Path, b: CorpusBuilder) -> None:
        audio = {p.with_suffix(""): p for p in walk_files(root, problems=b.problems)}
        video_only = [p for p in walk_files(root, (".avi",), problems=b.problems) if p.with_suffix("") not in audio]
        if video_only:
            b.problems.append(f"{len(video_only)} clips exist only as .avi (e.g. {video_only[0]}); extract their "
                              "audio to .wav next to them")
        for stem, path in sorted(audio.items()):
            rel = path.relative_to(root).parts[:-1]
            subject = next((SUBJECT.match(p).group(1) for p in rel if SUBJECT.match(p)), None)
            emotion = next((p.lower() for p in rel if p.lower() in self.native_labels), None)
            sentence = next((SENTENCE.match(p).group(1) for p in rel if SENTENCE.match(p)), None)
            if subject is None or emotion is None:
                b.skip("not under 'subject N/<emotion>/'")
                continue
            sentence = sentence or stem.name.rsplit("_", 1)[-1]
            local = f"s{subject}_{emotion}_{sentence}"
            b.add(local_id=local, path=path, speaker=f"s{subject}", code=emotion, where=str(path),
                  sentence=sentence, file_name=path.name)
