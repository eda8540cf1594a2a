"""semid's trie inside Hugging Face ``generate``: only real items can be generated.

- :func:`add_semantic_id_tokens` adds the ID tokens (LC-Rec style ``<a_12><b_7>...``) to a
  tokenizer and returns where each position's block starts.
- :class:`SemanticIDLogitsProcessor` masks, for every beam of a batch, all but the valid next
  tokens, in one call into the library per step (pass it in ``logits_processor=``).
- :func:`prefix_allowed_tokens_fn` gives the same constraint for code written against the
  ``prefix_allowed_tokens_fn=`` hook (one call per beam, so slower).
- :func:`decode_items` maps generated sequences back to item ids.

Token layout: the code ``c`` at ID position ``l`` is token ``position_bases[l] + c``. With one
``token_base`` (the tokens added in :meth:`semid.Index.token_vocabulary` order),
``position_bases[l] = token_base + sum(code_sizes[:l])``; or give the per-position list itself.
"""

from __future__ import annotations

import threading
from ctypes import addressof, byref, c_int64
from typing import Callable, List, Optional, Sequence, Union

import numpy as np

try:
    import torch
    from transformers import LogitsProcessor
except ImportError as error:  # pragma: no cover - exercised only without the extras
    raise ImportError("semid.hf needs torch and transformers: pip install torch transformers") from error

from ._index import Index, _address
from ._native import check, lib

TokenBase = Union[int, Sequence[int]]


def position_bases(index: Index, token_base: TokenBase) -> List[int]:
    """The token of code 0 at each ID position: `token_base` plus the earlier positions' code sizes,
    or `token_base` itself when it is a list of `id_length` bases."""
    if isinstance(token_base, (int, np.integer)):
        if token_base < 0:
            raise ValueError(f"token_base must be a token id (>= 0), got {token_base}")
        return [int(token_base) + sum(index.code_sizes[:l]) for l in range(index.id_length)]
    bases = [int(b) for b in token_base]
    if len(bases) != index.id_length:
        raise ValueError(f"token_base lists {len(bases)} position bases; the IDs have {index.id_length} positions")
    if any(b < 0 for b in bases):
        raise ValueError(f"token bases must be token ids (>= 0), got {bases}")
    return bases


def _single_token(eos_token_id) -> Optional[int]:
    if eos_token_id is None:
        return None
    if isinstance(eos_token_id, (list, tuple)):
        if len(eos_token_id) != 1:
            raise ValueError(f"give one eos_token_id, got {list(eos_token_id)}")
        eos_token_id = eos_token_id[0]
    if isinstance(eos_token_id, torch.Tensor):
        eos_token_id = eos_token_id.reshape(-1).tolist()
        return _single_token(eos_token_id)
    if int(eos_token_id) < 0:
        raise ValueError(f"eos_token_id must be a token id (>= 0), got {eos_token_id}")
    return int(eos_token_id)


class _Constraint:
    """What the processor and the prefix function share: the index, the layout, the prompt length."""

    def __init__(self, index: Index, token_base: TokenBase, prompt_length: int, eos_token_id):
        if not isinstance(index, Index):
            raise TypeError(f"index must be a semid.Index, got {type(index).__name__}")
        if int(prompt_length) < 0:
            raise ValueError(f"prompt_length must be >= 0, got {prompt_length}")
        self.index = index
        self.bases = np.asarray(position_bases(index, token_base), dtype=np.int64)
        self.prompt_length = int(prompt_length)
        self.eos_token_id = _single_token(eos_token_id)
        self.id_length = index.id_length

    def generated_length(self, sequence_length: int) -> int:
        """Tokens generated after the prompt; raises when generation went past the ID."""
        t = sequence_length - self.prompt_length
        if t < 0:
            raise ValueError(f"the sequences have {sequence_length} tokens, fewer than prompt_length "
                             f"{self.prompt_length}; pass the padded prompt length (input_ids.shape[1])")
        if t >= self.id_length and self.eos_token_id is None:
            raise ValueError(f"generation reached {t} tokens after the prompt, but a semantic ID has "
                             f"{self.id_length}: set max_new_tokens={self.id_length}, or give eos_token_id "
                             f"(then max_new_tokens={self.id_length + 1})")
        return t


class SemanticIDLogitsProcessor(LogitsProcessor):
    """A ``transformers.LogitsProcessor`` that lets every beam continue only with the tokens of
    codes that lead to a real item of `index`; once the ID is complete only `eos_token_id` is
    allowed (with ``eos_token_id=None``, generate exactly ``id_length`` new tokens).

    Args:
        index: the :class:`semid.Index` whose items may be generated.
        token_base: the token of code 0 at position 0 (positions follow each other, see
            :func:`position_bases`), or a list of per-position bases.
        prompt_length: tokens before the ID in ``input_ids`` (the padded prompt length).
        eos_token_id: the token that ends a complete ID, or None.
        inplace: mask the scores tensor it is given and return it (the default): one write pass,
            no allocation. Hugging Face hands every processor a fresh tensor, so this is safe in
            beam search and whenever the raw scores are not kept; pass ``inplace=False`` with
            greedy or sampling decoding and ``output_logits=True``, which keeps that tensor as the
            raw logits. (A new [rows, vocab] tensor each step costs first-touch page faults: about
            as much as one more pass of torch over the scores.)

    One library call per step masks the whole ``[batch * beams, vocab]`` score matrix (one write
    pass, both cores for large batches) for float32 CPU scores; other devices and dtypes get the
    allowed tokens from the library and a mask built with torch.
    """

    def __init__(self, index: Index, token_base: TokenBase, prompt_length: int, eos_token_id=None,
                 inplace: bool = True):
        self._constraint = _Constraint(index, token_base, prompt_length, eos_token_id)
        self.inplace = bool(inplace)
        self._eos = -1 if self._constraint.eos_token_id is None else self._constraint.eos_token_id

    @property
    def position_bases(self) -> List[int]:
        return [int(b) for b in self._constraint.bases]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        c = self._constraint
        if input_ids.dim() != 2 or scores.dim() != 2 or input_ids.shape[0] != scores.shape[0]:
            raise ValueError(f"expected input_ids [rows, length] and scores [rows, vocab], got "
                             f"{tuple(input_ids.shape)} and {tuple(scores.shape)}")
        t = c.generated_length(input_ids.shape[1])
        fast = (scores.device.type == "cpu" and input_ids.device.type == "cpu" and scores.dtype == torch.float32
                and input_ids.dtype == torch.int64 and scores.stride(1) == 1 and input_ids.stride(1) == 1)
        if not fast:
            return self._masked_by_torch(input_ids, scores, t)
        out = scores if self.inplace else torch.empty_like(scores)
        rows, vocabulary = scores.shape
        check(lib.semid_index_mask_scores(
            c.index._pointer(), input_ids.data_ptr() + 8 * c.prompt_length, rows, input_ids.stride(0), t,
            _address(c.bases), self._eos, scores.data_ptr(), out.data_ptr(), vocabulary, scores.stride(0)))
        return out

    def _masked_by_torch(self, input_ids, scores, t):
        c = self._constraint
        generated = input_ids[:, c.prompt_length:].to("cpu", torch.int64).numpy()
        indptr, tokens = c.index.allowed_next_tokens(generated, c.bases, c.eos_token_id)
        if tokens.size and tokens.max() >= scores.shape[1]:
            raise ValueError(f"the ID tokens reach token {int(tokens.max())}, beyond the {scores.shape[1]} scores; "
                             "resize the model's embeddings after adding the tokens")
        rows = np.repeat(np.arange(scores.shape[0]), np.diff(indptr))
        mask = torch.full_like(scores, float("-inf"))
        mask[torch.from_numpy(rows).to(scores.device), torch.from_numpy(tokens).to(scores.device)] = 0
        if self.inplace:
            return scores.add_(mask)
        return scores + mask


def prefix_allowed_tokens_fn(index: Index, token_base: TokenBase, prompt_length: int,
                             eos_token_id=None) -> Callable[[int, torch.Tensor], List[int]]:
    """A function for ``generate(prefix_allowed_tokens_fn=...)`` with the constraint of
    :class:`SemanticIDLogitsProcessor`. Hugging Face calls it once per beam and step, so it costs a
    few microseconds per beam; prefer the processor for large batches. A beam whose prefix is no
    item's prefix (a dead beam, already at -inf) gets ``[eos_token_id]``, or without one the first
    token of the current position, because Hugging Face refuses an empty list."""
    c = _Constraint(index, token_base, prompt_length, eos_token_id)
    eos = -1 if c.eos_token_id is None else c.eos_token_id
    bases_address = _address(c.bases)
    capacity = max(index.code_sizes) + 1
    function = lib.semid_index_allowed_next_tokens
    local = threading.local()  # per-thread buffers: Hugging Face calls this once per beam and step

    def buffers(t):
        held = getattr(local, "buffers", None)
        if held is None or len(held[0]) < t:
            generated = (c_int64 * max(t, c.id_length + 1))()
            indptr, tokens = (c_int64 * 2)(), (c_int64 * capacity)()
            held = local.buffers = (generated, addressof(generated), addressof(indptr), tokens, addressof(tokens),
                                    indptr)  # the arrays themselves are kept: the library writes into them
        return held

    def allowed(batch_id: int, input_ids: torch.Tensor) -> List[int]:
        t = c.generated_length(input_ids.shape[-1])
        generated, generated_address, indptr_address, tokens, tokens_address, _ = buffers(t)
        generated[:t] = input_ids[c.prompt_length:].tolist()
        count = c_int64()
        check(function(c.index._pointer(), generated_address, 1, t, t, bases_address, eos, indptr_address,
                       tokens_address, capacity, byref(count)))
        if count.value == 0:
            return [int(c.bases[min(t, c.id_length - 1)])]
        return tokens[:count.value]

    return allowed


def add_semantic_id_tokens(tokenizer, index: Index, template: str = "<{letter}_{code}>") -> List[int]:
    """Adds the ID tokens of `index` to a Hugging Face tokenizer (LC-Rec style by default:
    ``<a_0> ... <a_255> <b_0> ...``; placeholders {letter}, {position}, {code}) and returns the
    per-position bases: the token of code c at position l is ``bases[l] + c``. Tokens the
    tokenizer already has are kept; each position's tokens must end up contiguous (true for a
    tokenizer that had none or all of them). Resize the model afterwards:
    ``model.resize_token_embeddings(len(tokenizer))``."""
    tokens = index.token_vocabulary(template)
    tokenizer.add_tokens(tokens)
    ids = tokenizer.convert_tokens_to_ids(tokens)
    bases, offset = [], 0
    for position, size in enumerate(index.code_sizes):
        block = ids[offset:offset + size]
        if block != list(range(block[0], block[0] + size)):
            raise ValueError(f"the tokens of ID position {position} ({tokens[offset]} ...) are not contiguous in the "
                             "tokenizer; add them to a tokenizer that has none of them yet")
        bases.append(block[0])
        offset += size
    return bases


def decode_items(index: Index, sequences, token_base: TokenBase, prompt_length: int) -> np.ndarray:
    """The item of each generated sequence (int64 [N]; -1 where the tokens after the prompt are no
    item's ID). `sequences` is ``generate``'s output, [N, prompt_length + id_length (+ EOS)]."""
    bases = np.asarray(position_bases(index, token_base), dtype=np.int64)
    array = sequences.cpu().numpy() if isinstance(sequences, torch.Tensor) else np.asarray(sequences)
    if array.ndim != 2 or array.shape[1] < prompt_length + index.id_length:
        raise ValueError(f"sequences must be [N, >= prompt_length + {index.id_length}], got shape {array.shape}")
    codes = array[:, prompt_length:prompt_length + index.id_length].astype(np.int64) - bases
    sizes = np.asarray(index.code_sizes, dtype=np.int64)
    codes = np.where((codes >= 0) & (codes < sizes), codes, -1).astype(np.int32)
    return index.item_of(codes)


__all__ = ["SemanticIDLogitsProcessor", "prefix_allowed_tokens_fn", "add_semantic_id_tokens", "decode_items",
           "position_bases"]
