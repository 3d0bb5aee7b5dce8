"""Severity tables of the reference generators, as plain data, one per image size.

Values are those of hendrycks/robustness `make_cifar_c.py` (32 px), `make_tinyimagenet_c.py`
(64 px), `make_imagenet_c.py` (224 px) and `make_imagenet_c_inception.py` (299 px); see
shared/spec/corruptions-and-metrics.md section 1.3. Each entry lists severities 1..5.
Zoom-blur factors are the exact doubles that the reference `np.arange` calls produce: their
count and last bits matter (at 32 px, 1.2500000000000002 zooms a 26 px crop to 33 px, 1.25 to 32).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

_Z6 = (1.0, 1.01, 1.02, 1.03, 1.04, 1.05, 1.06)
_Z11 = _Z6 + (1.07, 1.08, 1.09, 1.1, 1.11)
_Z15 = _Z11 + (1.12, 1.1300000000000001, 1.1400000000000001, 1.1500000000000001)
_Z20 = _Z15 + (1.1600000000000001, 1.1700000000000002, 1.1800000000000002, 1.1900000000000002,
               1.2000000000000002)
_Z25 = _Z20 + (1.2100000000000002, 1.2200000000000002, 1.2300000000000002, 1.2400000000000002,
               1.2500000000000002)
_Z20_STEP2 = (1.0, 1.02, 1.04, 1.06, 1.08, 1.1, 1.12, 1.1400000000000001, 1.1600000000000001,
              1.1800000000000002, 1.2000000000000002)
_Z24_STEP2 = _Z20_STEP2 + (1.2200000000000002, 1.2400000000000002)
_Z30_STEP3 = (1.0, 1.03, 1.06, 1.09, 1.12, 1.1500000000000001, 1.1800000000000002,
              1.2100000000000002, 1.2400000000000002, 1.2700000000000002, 1.3000000000000003)

# Shared by the 224 and 299 px tables.
_IMAGENET_ZOOM = (_Z11, _Z15, _Z20_STEP2, _Z24_STEP2, _Z30_STEP3)
_IMAGENET_SNOW = ((.1, .3, 3, .5, 10, 4, .8), (.2, .3, 2, .5, 12, 4, .7), (.55, .3, 4, .9, 12, 8, .7),
                  (.55, .3, 4.5, .85, 12, 8, .65), (.55, .3, 2.5, .85, 12, 12, .55))
_IMAGENET_FROST = ((1, .4), (.8, .6), (.7, .7), (.65, .7), (.6, .75))
_IMAGENET_ELASTIC = ((2, .7, .1), (2, .08, .2), (.05, .01, .02), (.07, .01, .02), (.12, .01, .02))


def _scaled(factor: float, rows: tuple) -> tuple:
    return tuple(tuple(factor * v for v in row) for row in rows)


@dataclass(frozen=True)
class SeverityTable:
    """The parameters of every corruption at severities 1..5 for one image size.

    `params[name][severity - 1]` is the reference's `c`; `frost_scale` resizes the frost
    textures before cropping; `fog_mapsize` is the side of the plasma fractal.
    """
    name: str
    size: int
    params: Mapping[str, tuple[Any, ...]]
    frost_scale: float
    fog_mapsize: int

    def __getitem__(self, key: tuple[str, int]) -> Any:
        name, severity = key
        return self.params[name][severity - 1]


_CIFAR = {
    "gaussian_noise": (.04, .06, .08, .09, .10),
    "shot_noise": (500, 250, 100, 75, 50),
    "impulse_noise": (.01, .02, .03, .05, .07),
    "defocus_blur": ((.3, .4), (.4, .5), (.5, .6), (1, .2), (1.5, .1)),
    "glass_blur": ((.05, 1, 1), (.25, 1, 1), (.4, 1, 1), (.25, 1, 2), (.4, 1, 2)),
    "motion_blur": ((6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)),
    "zoom_blur": (_Z6, _Z11, _Z15, _Z20, _Z25),
    "snow": ((.1, .2, 1, .6, 8, 3, .95), (.1, .2, 1, .5, 10, 4, .9), (.15, .3, 1.75, .55, 10, 4, .9),
             (.25, .3, 2.25, .6, 12, 6, .85), (.3, .3, 1.25, .65, 14, 12, .8)),
    "frost": ((1, .2), (1, .3), (.9, .4), (.85, .4), (.75, .45)),
    "fog": ((.2, 3), (.5, 3), (.75, 2.5), (1, 2), (1.5, 1.75)),
    "brightness": (.05, .1, .15, .2, .3),
    "contrast": (.75, .5, .4, .3, .15),
    "elastic_transform": _scaled(32, ((0, 0, .08), (.05, .2, .07), (.08, .06, .06), (.1, .04, .05),
                                      (.1, .03, .03))),
    "pixelate": (.95, .9, .85, .75, .65),
    "jpeg_compression": (80, 65, 58, 50, 40),
    "speckle_noise": (.06, .1, .12, .16, .2),
    "gaussian_blur": (.4, .6, .7, .8, 1),
    "spatter": ((.62, .1, .7, .7, .5, 0), (.65, .1, .8, .7, .5, 0), (.65, .3, 1, .69, .5, 0),
                (.65, .1, .7, .69, .6, 1), (.65, .1, .5, .68, .6, 1)),
    "saturate": ((.3, 0), (.1, 0), (1.5, 0), (2, .1), (2.5, .2)),
}

_TINY = {
    "gaussian_noise": (.04, .08, .12, .15, .18),
    "shot_noise": (250, 100, 50, 30, 15),
    "impulse_noise": (.01, .02, .05, .08, .14),
    "defocus_blur": ((.5, .6), (1, .1), (1.5, .1), (2.5, .01), (3, .1)),
    "glass_blur": ((.1, 1, 1), (.5, 1, 1), (.6, 1, 2), (.7, 2, 1), (.9, 2, 2)),
    "motion_blur": ((10, 1), (10, 1.5), (10, 2), (10, 2.5), (12, 3)),
    "zoom_blur": (_Z6, _Z11, _Z15, _Z20, _Z25),
    "snow": ((.1, .2, 1, .6, 8, 3, .8), (.1, .2, 1, .5, 10, 4, .8), (.15, .3, 1.75, .55, 10, 4, .7),
             (.25, .3, 2.25, .6, 12, 6, .65), (.3, .3, 1.25, .65, 14, 12, .6)),
    "frost": ((1, .3), (.9, .4), (.8, .45), (.75, .5), (.7, .55)),
    "fog": ((.4, 3), (.7, 3), (1, 2.5), (1.5, 2), (2, 1.75)),
    "brightness": (.1, .2, .3, .4, .5),
    "contrast": (.4, .3, .2, .1, .05),
    "elastic_transform": _scaled(64, ((0, 0, .08), (.05, .3, .06), (.1, .08, .06), (.1, .03, .03),
                                      (.16, .03, .02))),
    "pixelate": (.9, .8, .7, .6, .5),
    "jpeg_compression": (65, 58, 50, 40, 25),
    "speckle_noise": (.15, .2, .25, .3, .35),
    "gaussian_blur": (.5, .75, 1, 1.25, 1.5),
    "spatter": ((.62, .1, .7, .7, .6, 0), (.65, .1, .8, .7, .6, 0), (.65, .3, 1, .69, .6, 0),
                (.65, .1, .7, .68, .6, 1), (.65, .1, .5, .67, .6, 1)),
    "saturate": ((.3, 0), (.1, 0), (2, 0), (5, .1), (30, .2)),
}

_IMAGENET = {
    "gaussian_noise": (.08, .12, .18, .26, .38),
    "shot_noise": (60, 25, 12, 5, 3),
    "impulse_noise": (.03, .06, .09, .17, .27),
    "defocus_blur": ((3, .1), (4, .5), (6, .5), (8, .5), (10, .5)),
    "glass_blur": ((.7, 1, 2), (.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)),
    "motion_blur": ((10, 3), (15, 5), (15, 8), (15, 12), (20, 15)),
    "zoom_blur": _IMAGENET_ZOOM,
    "snow": _IMAGENET_SNOW,
    "frost": _IMAGENET_FROST,
    "fog": ((1.5, 2), (2, 2), (2.5, 1.7), (2.5, 1.5), (3, 1.4)),
    "brightness": (.1, .2, .3, .4, .5),
    "contrast": (.4, .3, .2, .1, .05),
    # 244, not 224: a typo in the reference that its authors kept.
    "elastic_transform": _scaled(244, _IMAGENET_ELASTIC),
    "pixelate": (.6, .5, .4, .3, .25),
    "jpeg_compression": (25, 18, 15, 10, 7),
    "speckle_noise": (.15, .2, .35, .45, .6),
    "gaussian_blur": (1, 2, 3, 4, 6),
    "spatter": ((.65, .3, 4, .69, .6, 0), (.65, .3, 3, .68, .6, 0), (.65, .3, 2, .68, .5, 0),
                (.65, .3, 1, .65, 1.5, 1), (.67, .4, 1, .65, 1.5, 1)),
    "saturate": ((.3, 0), (.1, 0), (2, 0), (5, .1), (20, .2)),
}

_INCEPTION = dict(_IMAGENET, **{
    "gaussian_noise": (.09, .13, .19, .27, .40),
    "shot_noise": (50, 20, 10, 5, 3),
    "impulse_noise": (.04, .07, .10, .18, .28),
    "speckle_noise": (.16, .21, .36, .46, .61),
    "gaussian_blur": (1.5, 2.5, 3.5, 4.5, 6.5),
    "glass_blur": ((.8, 1, 3), (1, 3, 1), (1.1, 2, 4), (1.2, 4, 2), (1.6, 5, 2)),
    "defocus_blur": ((4, .1), (5, .5), (7, .5), (10, .5), (12, .5)),
    "motion_blur": ((12, 4), (17, 6), (17, 9), (17, 13), (22, 16)),
    "fog": ((1.5, 2), (2, 2), (2.5, 1.8), (2.5, 1.6), (3, 1.5)),
    "spatter": ((.65, .3, 4, .69, .9, 0), (.65, .3, 3.5, .68, .9, 0), (.65, .3, 3, .68, .8, 0),
                (.65, .3, 1.2, .65, 1.8, 1), (.67, .4, 1.2, .65, 1.8, 1)),
    "jpeg_compression": (23, 16, 13, 8, 5),
    "pixelate": (.5, .4, .3, .25, .2),
    "elastic_transform": _scaled(360, _IMAGENET_ELASTIC),
})

TABLES: Mapping[str, SeverityTable] = MappingProxyType({
    "cifar": SeverityTable("cifar", 32, MappingProxyType(_CIFAR), frost_scale=0.2, fog_mapsize=32),
    "tiny": SeverityTable("tiny", 64, MappingProxyType(_TINY), frost_scale=0.3, fog_mapsize=64),
    "imagenet": SeverityTable("imagenet", 224, MappingProxyType(_IMAGENET), frost_scale=1.0,
                              fog_mapsize=256),
    "inception": SeverityTable("inception", 299, MappingProxyType(_INCEPTION), frost_scale=1.0,
                               fog_mapsize=512),
})
def pick_table(table, tables: Mapping[str, Any], table_type: type):
    """`table` itself when it is a `table_type`, the one of `tables` it names, or the one for
    the image side it gives (an int); a ValueError naming the choices otherwise."""
    if isinstance(table, table_type):
        return table
    if isinstance(table, str) and table in tables:
        return tables[table]
    by_size = {t.size: t for t in tables.values()}
    if isinstance(table, int) and not isinstance(table, bool) and table in by_size:
        return by_size[table]
    raise ValueError(f"table must be one of {', '.join(tables)} or an image side of "
                     f"{', '.join(map(str, by_size))}, got {table!r}")


def get_table(table: str | int | SeverityTable) -> SeverityTable:
    """The severity table named `cifar`/`tiny`/`imagenet`/`inception`, or the one for a side of 32/64/224/299."""
    return pick_table(table, TABLES, SeverityTable)

