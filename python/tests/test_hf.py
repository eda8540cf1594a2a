"""semid.hf inside Hugging Face generate, with tiny randomly initialised GPT-2 models (no download):
only real, distinct items come out, the top sequences are the model's best valid IDs found by
exhaustive enumeration, and the processor's masks equal the library's allowed tokens."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import semid  # noqa: E402
import semid.hf as shf  # noqa: E402
from conftest import BUNDLED, run_cli  # noqa: E402

WORDS = 50
EOS, PAD = WORDS, WORDS + 1


def make_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    vocab = {f"w{i}": i for i in range(WORDS)}
    vocab.update({"[EOS]": EOS, "[PAD]": PAD, "[UNK]": WORDS + 2})
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return transformers.PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", eos_token="[EOS]",
                                                pad_token="[PAD]")


def make_model(vocabulary, seed):
    torch.manual_seed(seed)
    config = transformers.GPT2Config(vocab_size=vocabulary, n_positions=32, n_embd=32, n_layer=2, n_head=2,
                                     bos_token_id=EOS, eos_token_id=EOS, pad_token_id=PAD)
    return transformers.GPT2LMHeadModel(config).eval()


@pytest.fixture(scope="module")
def setup(bundled):
    tokenizer = make_tokenizer()
    bases = shf.add_semantic_id_tokens(tokenizer, bundled)
    return tokenizer, bases, make_model(len(tokenizer), seed=0)


def prompts(batch, length, seed):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, WORDS, (batch, length)))


def generate(model, input_ids, processor=None, fn=None, beams=20, returns=10, new_tokens=5, **kwargs):
    with torch.no_grad():
        return model.generate(input_ids, attention_mask=torch.ones_like(input_ids), num_beams=beams,
                              num_return_sequences=returns, max_new_tokens=new_tokens, do_sample=False,
                              logits_processor=transformers.LogitsProcessorList([processor]) if processor else None,
                              prefix_allowed_tokens_fn=fn, pad_token_id=PAD, eos_token_id=EOS, **kwargs)


def test_added_tokens_are_the_cli_hf_tokens_in_contiguous_blocks(bundled, setup, semid_cli, tmp_path):
    tokenizer, bases, _ = setup
    run_cli(semid_cli, "export", BUNDLED, "--format", "hf-tokens", "--out", tmp_path / "tokens.json")
    import json
    exported = json.loads((tmp_path / "tokens.json").read_text())
    assert tokenizer.convert_ids_to_tokens(list(range(bases[0], bases[0] + len(exported)))) == exported
    assert bases == [bases[0] + sum(bundled.code_sizes[:l]) for l in range(bundled.id_length)]
    assert shf.add_semantic_id_tokens(tokenizer, bundled) == bases  # adding again changes nothing
    assert shf.position_bases(bundled, bases[0]) == bases


@pytest.mark.parametrize("with_eos", [True, False])
def test_generate_returns_only_real_distinct_items(bundled, setup, with_eos):
    _, bases, model = setup
    P, L = 6, bundled.id_length
    input_ids = prompts(4, P, seed=1)
    processor = shf.SemanticIDLogitsProcessor(bundled, bases[0], P, eos_token_id=EOS if with_eos else None)
    out = generate(model, input_ids, processor, new_tokens=L + 1 if with_eos else L)
    assert out.shape == (40, P + L + (1 if with_eos else 0))
    if with_eos:
        assert torch.all(out[:, -1] == EOS)
    items = shf.decode_items(bundled, out, bases, P).reshape(4, 10)
    assert np.all(items >= 0), "every sequence is an item's ID"
    for row in items:
        assert len(set(row.tolist())) == 10, "the 10 returned items of a prompt are distinct"
    # The HF hook with semid's prefix function gives the same beams.
    fn = shf.prefix_allowed_tokens_fn(bundled, bases, P, eos_token_id=EOS if with_eos else None)
    same = generate(model, input_ids, fn=fn, new_tokens=L + 1 if with_eos else L)
    assert torch.equal(same, out)
    # Unconstrained, this model produces no item at all.
    free = generate(model, input_ids, new_tokens=L)
    assert np.all(shf.decode_items(bundled, free, bases, P) == -1)


def exhaustive_best(model, prompt, index, bases, eos):
    """Every item's total log-probability under the model for this prompt (full softmax at every
    step, the EOS after the ID included), best first."""
    codes = index.codes.astype(np.int64) + np.asarray(bases)
    tails = np.concatenate([codes, np.full((len(codes), 1), eos)], axis=1) if eos is not None else codes
    sequences = torch.cat([prompt.repeat(len(codes), 1), torch.from_numpy(tails)], dim=1)
    with torch.no_grad():
        logits = model(sequences).logits.double()
    logp = torch.log_softmax(logits, dim=-1)
    P = prompt.shape[-1]
    steps = [logp[:, P - 1 + j].gather(1, sequences[:, P + j:P + j + 1]).squeeze(1) for j in range(tails.shape[1])]
    totals = torch.stack(steps, dim=1).sum(1).numpy()
    order = np.argsort(-totals, kind="stable")
    return order, totals[order]


@pytest.mark.parametrize("with_eos", [True, False])
def test_top_sequences_equal_an_exhaustive_enumeration(tiny, with_eos):
    tokenizer = make_tokenizer()
    bases = shf.add_semantic_id_tokens(tokenizer, tiny)
    eos = EOS if with_eos else None
    P, L = 5, tiny.id_length
    assert tiny.num_items <= 20, "beam search with 20 beams is exact on at most 20 items"
    for seed in range(3):
        model = make_model(len(tokenizer), seed=seed)
        input_ids = prompts(3, P, seed=10 + seed)
        processor = shf.SemanticIDLogitsProcessor(tiny, bases, P, eos_token_id=eos)
        out = generate(model, input_ids, processor, new_tokens=L + (1 if with_eos else 0),
                       length_penalty=0.0, output_scores=True, return_dict_in_generate=True)
        items = shf.decode_items(tiny, out.sequences, bases, P).reshape(3, 10)
        scores = out.sequences_scores.reshape(3, 10).numpy()
        for b in range(3):
            order, totals = exhaustive_best(model, input_ids[b:b + 1], tiny, bases, eos)
            assert items[b].tolist() == order[:10].tolist(), f"seed {seed}, prompt {b}"
            np.testing.assert_allclose(scores[b], totals[:10], rtol=0, atol=1e-4)


def random_generated(index, bases, rows, t, rng):
    """Generated token rows of length t: real prefixes, random codes, and tokens outside the blocks."""
    real = index.codes[rng.integers(0, index.num_items, rows), :t].astype(np.int64)
    if t:
        real[rows // 2:] = np.stack([rng.integers(-1, k + 1, rows - rows // 2) for k in index.code_sizes[:t]], 1)
    return real + np.asarray(bases[:t], dtype=np.int64)


@pytest.mark.parametrize("inplace", [False, True])
def test_processor_masks_exactly_the_allowed_tokens(bundled, setup, inplace):
    tokenizer, bases, _ = setup
    rng = np.random.default_rng(3)
    V, P = len(tokenizer), 3
    for t in range(bundled.id_length + 1):
        generated = random_generated(bundled, bases, 64, t, rng)
        input_ids = torch.cat([torch.zeros(64, P, dtype=torch.int64), torch.from_numpy(generated)], dim=1)
        scores = torch.randn(64, V)
        original = scores.clone()
        processor = shf.SemanticIDLogitsProcessor(bundled, bases, P, eos_token_id=EOS, inplace=inplace)
        masked = processor(input_ids, scores)
        assert (masked is scores) == inplace
        if not inplace:
            assert torch.equal(scores, original)
        indptr, tokens = bundled.allowed_next_tokens(generated, bases, EOS)
        for r in range(64):
            keep = tokens[indptr[r]:indptr[r + 1]]
            assert torch.isfinite(masked[r]).nonzero().flatten().tolist() == keep.tolist()
            assert torch.equal(masked[r, keep], original[r, keep])
        # The torch path (other dtypes or devices) gives the same mask.
        slow = processor(input_ids, original.double())
        assert torch.equal(torch.isfinite(slow), torch.isfinite(masked))


def test_processor_errors(bundled, setup):
    tokenizer, bases, _ = setup
    L = bundled.id_length
    processor = shf.SemanticIDLogitsProcessor(bundled, bases, 4)
    with pytest.raises(ValueError, match="fewer than prompt_length 4"):
        processor(torch.zeros(2, 3, dtype=torch.int64), torch.zeros(2, len(tokenizer)))
    with pytest.raises(ValueError, match=f"max_new_tokens={L}"):
        processor(torch.zeros(2, 4 + L, dtype=torch.int64), torch.zeros(2, len(tokenizer)))
    with pytest.raises(semid.InvalidArgumentError, match="do not fit a vocabulary"):
        processor(torch.zeros(2, 4, dtype=torch.int64), torch.zeros(2, bases[-1]))
    with pytest.raises(ValueError, match="position bases"):
        shf.SemanticIDLogitsProcessor(bundled, [0, 1], 4)
    with pytest.raises(ValueError, match="one eos_token_id"):
        shf.SemanticIDLogitsProcessor(bundled, bases, 4, eos_token_id=[1, 2])
    with pytest.raises(TypeError, match="semid.Index"):
        shf.SemanticIDLogitsProcessor("index", bases, 4)
    fn = shf.prefix_allowed_tokens_fn(bundled, bases, 2)
    with pytest.raises(ValueError, match="max_new_tokens"):
        fn(0, torch.zeros(2 + L, dtype=torch.int64))
    assert fn(0, torch.zeros(2, dtype=torch.int64)) == (np.unique(bundled.codes[:, 0]) + bases[0]).tolist()
