"""The publisher: the two radswift containers of a job pod around the processor.

    get   (init container)     fetch the key's input/ into /share/incoming
    put   (publish container)  wait for the processor, upload /share/outgoing to output/

`share.py` is the contract of the shared volume; `wait/` the ways to wait;
`emissary.c` the exit-code wrapper for processors in images without a shell.
"""
