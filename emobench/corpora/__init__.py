"""Corpus loaders: one module per corpus, each reading the corpus' native release layout.

Loaders are registered lazily in ``emobench.registries.corpora``; see ``emobench.corpora.roots`` for how a
corpus root is found (``--corpus NAME=PATH`` > ``EMOBENCH_<NAME>_ROOT`` > the user config file).
"""
