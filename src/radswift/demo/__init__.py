"""The demo plugin and what `radswift dev demo` needs around it.

ctstats.py   pure per-slice statistics of a CT slice's raw pixels (HU, threshold count)
plugin.py    `python -m radswift.demo.plugin INPUTDIR OUTPUTDIR`: a ChRIS-style "ds"
             plugin that summarizes a CT series into summary.json and slices.csv
"""
