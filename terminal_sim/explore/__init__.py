"""The fault-space explorer behind ``pos-sim explore`` (after FoundationDB's simulation
testing and TigerBeetle's VOPR): worlds generated from a seed (:mod:`.world`,
:mod:`.draw`, :mod:`.vocabulary`), judged (:mod:`.judge`), shrunk to a minimal scenario
(:mod:`.shrink`), run and collected (:mod:`.runner`) and written out (:mod:`.output`).
"""
