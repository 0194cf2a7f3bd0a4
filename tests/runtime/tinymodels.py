"""Makes tiny, randomly initialised HF models that vLLM's CPU build can serve.

No model can be downloaded here, so the runtime tests build their own:

* a Llama (hidden 128, 2 heads -> head_dim 64, which the CPU attention kernels accept;
  16 is rejected), 2 layers, a byte-level BPE tokenizer trained on a few sentences and a
  chat template, so /v1/completions and /v1/chat/completions work;
* a BertModel (hidden 128) with a WordPiece tokenizer, for ``--runner pooling`` and
  /v1/embeddings.

Run with the runtime venv's Python (it needs torch, transformers and tokenizers):

    .venv-runtime/bin/python tests/runtime/tinymodels.py OUT_DIR

It writes OUT_DIR/tiny-llama and OUT_DIR/tiny-bert and prints a JSON summary. A model
folder that already holds a complete model is left alone, so the call is cheap to repeat.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A model server answers requests with tokens.",
    "Kubernetes schedules pods onto nodes with GPUs.",
    "Hello, how are you today? I am fine, thank you.",
    "The cache holds keys and values for every token.",
    "Stackgen plans, renders and lints serving stacks.",
    "Small models start quickly and use little memory.",
    "user assistant system: what is the answer? It is forty two.",
]

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}</s>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

HIDDEN = 128
HEADS = 2  # head_dim = 128 / 2 = 64
LAYERS = 2
DONE = ".tinymodel-complete"


def _corpus() -> list[str]:
    return SENTENCES * 4


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def llama_tokenizer(out: Path) -> int:
    """Trains a byte-level BPE tokenizer; returns its vocabulary size."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    special = ["<unk>", "<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=384,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
    )
    tok.save(str(out / "tokenizer.json"))
    _write_json(
        out / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "bos_token": "<s>",
            "eos_token": "</s>",
            "unk_token": "<unk>",
            "pad_token": "<pad>",
            "model_max_length": 4096,
            "add_bos_token": True,
            "chat_template": CHAT_TEMPLATE,
        },
    )
    _write_json(
        out / "special_tokens_map.json",
        {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"},
    )
    return tok.get_vocab_size()


def make_llama(out: Path) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out.mkdir(parents=True, exist_ok=True)
    vocab = llama_tokenizer(out)
    tok = json.loads((out / "tokenizer.json").read_text())["model"]["vocab"]
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=HIDDEN,
        intermediate_size=256,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        num_key_value_heads=HEADS,
        head_dim=HIDDEN // HEADS,
        max_position_embeddings=4096,  # rotary: no weights; long streams for drain tests
        bos_token_id=tok["<s>"],
        eos_token_id=tok["</s>"],
        pad_token_id=tok["<pad>"],
        tie_word_embeddings=False,
        torch_dtype="float32",
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.save_pretrained(out, safe_serialization=True)
    return out


def bert_tokenizer(out: Path) -> int:
    """Trains a WordPiece tokenizer; returns its vocabulary size."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers import processors, trainers

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(
        _corpus(), trainer=trainers.WordPieceTrainer(vocab_size=512, special_tokens=special)
    )
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    tok.save(str(out / "tokenizer.json"))
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    (out / "vocab.txt").write_text("".join(f"{word}\n" for word, _ in vocab))
    _write_json(
        out / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "cls_token": "[CLS]",
            "sep_token": "[SEP]",
            "unk_token": "[UNK]",
            "pad_token": "[PAD]",
            "mask_token": "[MASK]",
            "do_lower_case": True,
            "model_max_length": 512,
        },
    )
    return tok.get_vocab_size()


def make_bert(out: Path) -> Path:
    import torch
    from transformers import BertConfig, BertModel

    out.mkdir(parents=True, exist_ok=True)
    vocab = bert_tokenizer(out)
    config = BertConfig(
        vocab_size=vocab,
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=256,
        max_position_embeddings=512,
        torch_dtype="float32",
    )
    torch.manual_seed(0)
    model = BertModel(config, add_pooling_layer=False)
    model.save_pretrained(out, safe_serialization=True)
    return out


def ensure(out: Path, make) -> Path:
    if (out / DONE).exists():
        return out
    make(out)
    (out / DONE).write_text("ok\n")
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: tinymodels.py OUT_DIR", file=sys.stderr)
        return 2
    root = Path(argv[0])
    llama = ensure(root / "tiny-llama", make_llama)
    bert = ensure(root / "tiny-bert", make_bert)
    print(json.dumps({"llama": str(llama), "bert": str(bert), "hidden": HIDDEN}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
