"""What `radswift dev demo` (`./run demo`) needs: its steps, its backends, its plugins.

runner.py          the demo's steps: a local Swift (or the local store), the sample
                   study, pfioh and pman embedded, the example plugin run through them
                   with `radswift job run`'s core (radswift.jobrun)
backends.py        which backend (podman when it works here, else local) and the
                   radswift image the podman job's get/publish containers run
example_plugin.py  how a job runs examples/pl-dicom-summary (its image, its local command)
images.py          the newest image per role kept, older builds removed
plugin.py          `python -m radswift.dev.demo.plugin INPUTDIR OUTPUTDIR`: the first demo's
                   CT-series summary plugin (summary.json, slices.csv), with ctstats.py;
                   the demo no longer runs it (it runs the example plugin)
"""
