"""The display wing: how eventbt shows numbers to people, with no knowledge of runs.

- :mod:`eventbt.display.format`: one text format per kind of figure (money, percent, ratio, ...), the
  labels of the summary figures;
- :mod:`eventbt.display.tables`: aligned tables on a terminal (rich) or as plain text;
- :mod:`eventbt.display.progress`: the progress bar of long runs and sweeps;
- :mod:`eventbt.display.svg`: the inline SVG charts of the reports;
- :mod:`eventbt.display.notebook`: a result's HTML view in Jupyter.
"""
