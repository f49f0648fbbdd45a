"""Build tests/data/toxblock_reference.json: tox-block 0.1.2's own scores for a few texts.

Run once, outside the project's virtualenv, in a throwaway one with TensorFlow (never a
dependency of Baraza):

    python3.11 -m venv /tmp/tfvenv
    /tmp/tfvenv/bin/pip install tensorflow-cpu==2.15.1 Keras-Preprocessing==1.1.2 \\
        pandas joblib scikit-learn
    /tmp/tfvenv/bin/pip install --no-deps tox-block==0.1.2
    /tmp/tfvenv/bin/python scripts/toxblock_reference.py tests/data/toxblock_reference.json

``workers.toxblock_scorer`` must reproduce these numbers (tests/workers/test_toxblock.py).
"""

from __future__ import annotations

import json
import sys

TEXTS = [
    "Thank you for this balanced report on the security talks.",
    "The attack in Mogadishu killed 12 people, police said.",
    "Al-Shabaab claimed the bombing; Somali and Kenyan officials met in Nairobi.",
    "Muslim leaders condemned the explosion and called for calm.",
    "Refugees in Dadaab need water, not more promises.",
    "You are an idiot and a liar.",
    "What a stupid, ignorant comment. Shut up.",
    "fuck you and your fucking newspaper",
    "This is bullshit, total crap.",
    "I know where you live and I will kill you.",
    "Someone should shoot the minister.",
    "Go back to your country, you filthy animals.",
    "They are vermin and should be wiped out.",
    "You stupid bitch",
    "The governor is a corrupt thief who should resign.",
    "!!!",
    "zzzqqq unknownword xyzzy",
    "IDIOT!!! MORON!!! LOSER!!!",
    "Don't you dare come near my family again; watch your back.",
    "He said: \"it's the government's fault\" -- and I agree.\ttabs\nand newlines",
    " ".join(["the council met again to discuss the budget"] * 20) + " you moron",
    "you moron " + " ".join(["the council met again to discuss the budget"] * 20),
    "Nakupenda sana, habari za asubuhi?",
    "Ｆｕｌｌｗｉｄｔｈ text and émigré café naïve",
]


def main() -> None:
    import tensorflow as tf
    from tox_block.prediction import make_predictions

    labels = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
    rescaled = make_predictions(TEXTS, rescale=True)
    raw = make_predictions(TEXTS, rescale=False)
    out = {
        "package": "tox-block 0.1.2",
        "tensorflow": tf.__version__,
        "labels": labels,
        "texts": TEXTS,
        "rescaled": [[float(rescaled[i][label]) for label in labels] for i in range(len(TEXTS))],
        "raw": [[float(raw[i][label]) for label in labels] for i in range(len(TEXTS))],
    }
    # A file, not stdout: Keras prints its progress bar there.
    with open(sys.argv[1], "w", encoding="utf-8") as target:
        json.dump(out, target, indent=1)
        target.write("\n")


if __name__ == "__main__":
    main()
