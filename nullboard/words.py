"""Word lists for throwaway names: 132 adjectives x 128 nouns x 9000 numbers
give about 152 million names."""

ADJECTIVES = (
    "amber ancient arctic ashen autumn azure bitter black blazing bold brave brief "
    "bright brisk broken bronze calm careful cedar chilly clever cloudy cobalt cold "
    "coral cosmic crimson crisp curious dappled dark dawn deep distant dusky dusty "
    "eager early electric ember faded fair fallen fierce fleet foggy frosty gentle "
    "gilded glad golden granite gray green hidden hollow humble icy idle indigo "
    "iron ivory jade jolly keen kind lively lone lucky lunar marble mellow misty "
    "modest mossy muted narrow neon nimble noble north obsidian ochre olive pale "
    "patient plain polar proud quiet quick rapid restless rough ruby rustic sable "
    "salty scarlet shadow sharp shy silent silver simple sleepy slow small smoky "
    "snowy solar solemn spare steady stone stormy sunny swift tame tawny tidal "
    "timber tired vast velvet violet wandering warm wild windy wise young"
).split()

NOUNS = (
    "acorn adder albatross alder anchor ant antelope apple aspen badger barn bat "
    "bear beaver bee beetle birch bison boar brook buffalo canyon cardinal cat "
    "cedar cliff cloud comet condor coyote crane creek crow cypress deer dingo "
    "dove dragon eagle egret elk ember falcon fern ferret finch fir fox frog gazelle "
    "gecko glacier goat goose grove gull hare harbor hawk hazel heron hill horse "
    "ibis jackal jaguar jay kestrel kite koala lake lark leopard lichen lily lion "
    "lynx magpie maple marten meadow mink mole moose moth newt oak orca osprey otter "
    "owl panda panther pebble pelican pine plover pond puma quail rabbit raven reed "
    "river robin rook sage salmon seal shark shrew sparrow spruce stag stork swan "
    "thistle tiger toad trout tulip viper walrus whale willow wolf wren yak"
).split()
