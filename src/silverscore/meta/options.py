"""Names of the text-baseline variants, in a module light enough for the CLI to import at start-up
(the baselines themselves pull in rouge-score, nltk and sacrebleu)."""

ROUGE_VARIANTS = ("rougeL", "rougeL-ws", "rougeL-slt")
DEFAULT_ROUGE = "rougeL-slt"
TOKENIZATIONS = ("none", "13a")
