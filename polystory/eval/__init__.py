"""Evaluation: clustering and similarity metrics, and scoring of ``polystory cluster`` output."""
from .metrics import Scores, bcubed, evaluate, pairwise, pearson

__all__ = ["Scores", "bcubed", "pairwise", "pearson", "evaluate"]
